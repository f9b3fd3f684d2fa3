"""Entry points: HTTP API, CLI, workers, daemon supervisor and the DI container (composition root)."""
