"""Local emulator of the BigQuery REST API v2, backed by DuckDB and sqlglot.

Standalone: imports nothing from the rest of mlplane. Start it with
``python -m emulators.bigquery`` or programmatically with ``BigQueryEmulator``.
"""

from .app import create_app
from .faults import FaultConfig
from .server import BigQueryEmulator

__all__ = ["BigQueryEmulator", "FaultConfig", "create_app"]
