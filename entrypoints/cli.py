"""The `mlplane` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from entrypoints.settings import Settings


def _server_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=["local", "emulated", "gcp"])
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, help="data directory (default ./.mlplane)")


def _client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="daemon URL (default $MLPLANE_URL, else http://127.0.0.1:8080)")
    parser.add_argument("--token", help="bearer token (default $MLPLANE_TOKEN)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlplane", description="ML lifecycle daemon")
    sub = parser.add_subparsers(dest="command", required=True)
    _server_args(sub.add_parser("up", help="run API and workers in one process"))
    _server_args(sub.add_parser("api", help="run the API alone (scale-out)"))
    worker = sub.add_parser("worker", help="run queue workers alone (scale-out)")
    _server_args(worker)
    worker.add_argument("--queue", action="append", default=None, help="queue to serve (repeatable)")
    emulators = sub.add_parser("emulators", help="run the GCS and BigQuery emulators on loopback")
    emulators.add_argument("--host", default="127.0.0.1")
    emulators.add_argument("--gcs-port", type=int, default=9023)
    emulators.add_argument("--bigquery-port", type=int, default=9050)
    emulators.add_argument("--data-dir", type=Path, help="persist emulator state here (default: memory)")
    train = sub.add_parser("train", help="submit a training job")
    train.add_argument("spec", type=Path, help="training spec JSON file ('-' for stdin)")
    train.add_argument("--follow", action="store_true", help="show live progress until the job ends")
    _client_args(train)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k in ("profile", "host", "port", "data_dir") if (v := getattr(args, k, None)) is not None}
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        from entrypoints.client import train_command

        return train_command(args)
    if args.command == "emulators":
        from entrypoints.emulators_cmd import run_emulators

        return run_emulators(args.host, args.gcs_port, args.bigquery_port, args.data_dir)
    from pydantic import ValidationError

    from entrypoints.daemon import main_sync
    from entrypoints.logs import configure_logging
    from entrypoints.workers import QUEUES

    try:
        settings = _settings(args)
    except ValidationError as exc:
        print(f"mlplane: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "up":
        return main_sync(settings, serve_api=True, queues=QUEUES, in_daemon=True)
    if args.command == "api":
        return main_sync(settings, serve_api=True, queues=(), in_daemon=False)
    return main_sync(settings, serve_api=False, queues=args.queue or QUEUES, in_daemon=False)


if __name__ == "__main__":
    sys.exit(main())
