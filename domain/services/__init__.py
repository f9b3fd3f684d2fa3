"""Async domain services. They talk only to ports and never do I/O themselves."""
