"""The `mlplane` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from entrypoints import cli_args
from entrypoints.settings import Settings

_NOT_RUN = ("2 could not do the work: bad arguments, an unreadable file, a request the daemon refused, or a daemon "
            "that cannot be reached")
EXIT_STATUS = ("exit status: 0 done; 1 the job ended failed or cancelled (--follow), or the daemon refused a "
               f"replayed batch or the file could not be read to its end; {_NOT_RUN}")
# Each client command's own: a training job has no replayed batches, a replay no job.
TRAIN_EXIT_STATUS = ("exit status: 0 the job was queued (with --follow: the model is ready); 1 the job ended failed "
                     f"or cancelled (--follow); {_NOT_RUN}, or (--follow) its event stream was lost")
INGEST_EXIT_STATUS = f"exit status: 0 done; 1 the ingestion ended failed or cancelled (--follow); {_NOT_RUN}"
REPLAY_EXIT_STATUS = ("exit status: 0 done; 1 the daemon refused a replayed batch or the file could not be read to "
                      f"its end; {_NOT_RUN}")


def _server_args(parser: argparse.ArgumentParser) -> None:
    """What every process of a deployment reads: its profile and data directory."""
    parser.add_argument("--profile", choices=["local", "emulated", "gcp"])
    parser.add_argument("--data-dir", type=Path, help="data directory (default ./.mlplane)")


def _listen_args(parser: argparse.ArgumentParser) -> None:
    """Only for the commands that serve the API (`up`, `api`): the others bind no port."""
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")


def _client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="daemon URL (default $MLPLANE_URL, else http://127.0.0.1:8080)")
    parser.add_argument("--token", help="bearer token (default $MLPLANE_TOKEN)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlplane", description="ML lifecycle daemon", epilog=EXIT_STATUS)
    sub = parser.add_subparsers(dest="command", required=True)
    for command, text in (("up", "run API and workers in one process"), ("api", "run the API alone (scale-out)")):
        serving = sub.add_parser(command, help=text)
        _server_args(serving)
        _listen_args(serving)
    worker = sub.add_parser("worker", help="run queue workers alone (scale-out)")
    _server_args(worker)
    worker.add_argument("--queue", action="append", default=None, help="queue to serve (repeatable)")
    emulators = sub.add_parser("emulators", help="run the GCS and BigQuery emulators on loopback")
    emulators.add_argument("--host", default="127.0.0.1")
    emulators.add_argument("--gcs-port", type=int, default=9023)
    emulators.add_argument("--bigquery-port", type=int, default=9050)
    emulators.add_argument("--data-dir", type=Path, help="persist emulator state here (default: memory)")
    train = sub.add_parser("train", help="submit a training job", epilog=TRAIN_EXIT_STATUS)
    train.add_argument("spec", type=Path, help="training spec JSON file ('-' for stdin)")
    train.add_argument("--follow", action="store_true", help="show live progress until the job ends")
    _client_args(train)
    _ingest_args(sub)
    _inference_args(sub)
    return parser


def _inference_args(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    inference = sub.add_parser("inference", help="run the consumers of one pipeline alone (scale-out)")
    inference.add_argument("pipeline", nargs="+", help="pipeline name(s)")
    _server_args(inference)
    stream = sub.add_parser("stream", help="stream tools")
    stream_sub = stream.add_subparsers(dest="stream_command", required=True)
    replay = stream_sub.add_parser("replay", help="replay a CSV/Parquet file into a stream over the API",
                                   epilog=REPLAY_EXIT_STATUS)
    replay.add_argument("file", type=Path)
    replay.add_argument("--rate", type=cli_args.rate, default=1000.0, help="events per second (0: as fast as possible)")
    replay.add_argument("--stream", type=cli_args.stream,
                        help="stream name (default: the file's name without extension)")
    _client_args(replay)


def _ingest_args(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from entrypoints.client_ingest_schedule import add_schedule_args

    # The ingestion options, shared by `ingest` and `ingest-schedule set` (both send the same body).
    spec = argparse.ArgumentParser(add_help=False)
    spec.add_argument("--table", type=cli_args.table, required=True, help="target table")
    spec.add_argument("--format", choices=["auto", "csv", "parquet"], default="auto")
    spec.add_argument("--mode", choices=["append", "replace", "upsert"], default="append")
    spec.add_argument("--keys", type=cli_args.columns, help="key columns, comma-separated (upsert, --dedupe keys)")
    spec.add_argument("--dedupe", nargs="?", const="exact", choices=["exact", "keys"],
                      help="drop duplicate rows (exact) or duplicate keys")
    spec.add_argument("--drop-nulls", type=cli_args.columns, metavar="COL,...",
                      help="drop rows with a null in these columns")
    spec.add_argument("--partitions", type=cli_args.partitions, help="number of partitions (default: auto)")
    spec.add_argument("--max-reject-ratio", type=cli_args.ratio, default=0.05, help="fail above this share of bad rows")
    client = argparse.ArgumentParser(add_help=False)
    _client_args(client)
    ingest = sub.add_parser("ingest", parents=[spec, client], epilog=INGEST_EXIT_STATUS,
                            help="ingest CSV/Parquet files into a warehouse table (POST /v1/ingestions)")
    ingest.add_argument("sources", nargs="+", metavar="SOURCE", help="paths, globs, http(s):// or gs:// URIs")
    ingest.add_argument("--follow", action="store_true", help="show live progress until the ingestion ends")
    add_schedule_args(sub, spec, client)
    task = sub.add_parser("ingest-task", help="stage this Cloud Run task's share of an ingestion's partitions")
    task.add_argument("--plan", required=True, help="ingestion id, or a JSON file with it (GET /v1/ingestions/ID)")
    _server_args(task)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k in ("profile", "host", "port", "data_dir") if (v := getattr(args, k, None)) is not None}
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "stream":
        return _stream(args)
    if args.command == "train":
        from entrypoints.client import train_command

        return train_command(args)
    if args.command in ("ingest", "ingest-schedule"):
        return _ingest_client(args)
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
    if args.command == "ingest-task":
        from entrypoints.ingest_task import ingest_task_command

        return ingest_task_command(args, settings)
    if args.command == "up":
        return main_sync(settings, serve_api=True, queues=settings.daemon_queues, in_daemon=True, pipelines=None)
    if args.command == "api":
        return main_sync(settings, serve_api=True, queues=(), in_daemon=False)
    if args.command == "inference":
        return _inference(args, settings)
    return main_sync(settings, serve_api=False, queues=args.queue or QUEUES, in_daemon=False)


def _ingest_client(args: argparse.Namespace) -> int:
    if args.command == "ingest-schedule":
        from entrypoints.client_ingest_schedule import schedule_command

        return schedule_command(args)
    from entrypoints.client_ingest import ingest_command

    return ingest_command(args)


def _stream(args: argparse.Namespace) -> int:
    from entrypoints.client_stream import stream_command

    return stream_command(args)


def _inference(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints.daemon import main_sync

    if not settings.redis_url:
        print("mlplane: 'mlplane inference' joins a running deployment: set MLPLANE_REDIS_URL to its Redis "
              "(a private embedded server would see no events)", file=sys.stderr)
        return 2
    return main_sync(settings, serve_api=False, queues=(), in_daemon=False, pipelines=args.pipeline)


if __name__ == "__main__":
    sys.exit(main())
