"""Command line: ``python -m emulators.bigquery --host 127.0.0.1 --port 9050``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading

from .faults import FaultConfig
from .server import BigQueryEmulator
from .state import DEFAULT_PROJECT

_USAGE = """BigQuery emulator listening on {url}  (default project: {project})

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery
    client = bigquery.Client(project="{project}", credentials=AnonymousCredentials(),
                             client_options={{"api_endpoint": "{url}"}})

Use to_dataframe(create_bqstorage_client=False) / to_arrow(create_bqstorage_client=False).
Faults: POST/GET/DELETE {url}/_emulator/faults
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.bigquery", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9050)
    parser.add_argument("--project", default=DEFAULT_PROJECT)
    parser.add_argument("--data-dir", help="persist tables in DIR/bigquery.duckdb (default: in memory)")
    parser.add_argument("--gcs-url", default=os.environ.get("STORAGE_EMULATOR_HOST"),
                        help="GCS emulator base URL for gs:// loads (default: $STORAGE_EMULATOR_HOST)")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests that fail")
    parser.add_argument("--fault-status", type=int, default=503)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fail-nth", help='JSON such as {"operation": "query", "n": 3}')
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    faults = FaultConfig(
        error_rate=args.error_rate, status=args.fault_status, latency_ms=args.latency_ms,
        fail_nth=json.loads(args.fail_nth) if args.fail_nth else None, seed=args.seed,
    )
    emulator = BigQueryEmulator(host=args.host, port=args.port, project=args.project,
                                data_dir=args.data_dir, gcs_url=args.gcs_url, faults=faults)
    url = emulator.start()  # reports the real port when --port 0 is given
    print(_USAGE.format(url=url, project=args.project), flush=True)
    # SIGTERM ends like Ctrl-C, so DuckDB is closed cleanly and --data-dir stays consistent.
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
