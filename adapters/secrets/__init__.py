"""Secret providers: environment variables and a directory of files (e.g. mounted secrets)."""
