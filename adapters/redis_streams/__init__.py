"""Redis adapters for streaming inference: consumer groups, windows, signals, dead letters, pipelines."""
