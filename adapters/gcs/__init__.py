"""Cloud Storage adapters, built on the official google-cloud-storage client."""
