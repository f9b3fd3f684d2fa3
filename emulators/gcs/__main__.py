"""Command line: ``python -m emulators.gcs --host 127.0.0.1 --port 9023 [--data-dir DIR]``.

Fault flags set the initial fault configuration; it can be changed at run time
through ``POST /_emulator/faults`` (see ``faults.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence

from .faults import FaultConfig
from .server import GcsEmulator


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.gcs",
                                     description="Local Cloud Storage JSON API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9023, help="0 picks a free port")
    parser.add_argument("--data-dir", help="persist to this directory (default: memory)")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests failed")
    parser.add_argument("--error-status", type=int, default=503)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fail-nth", metavar="OPERATION:N",
                        help="fail the Nth request of OPERATION (e.g. upload:3, *:5)")
    parser.add_argument("--drop-connection-mid-upload", action="store_true")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def fault_config(args: argparse.Namespace) -> FaultConfig:
    fail_nth = None
    if args.fail_nth:
        operation, _, n = args.fail_nth.rpartition(":")
        fail_nth = {"operation": operation or "*", "n": int(n)}
    return FaultConfig.from_json({
        "error_rate": args.error_rate, "status": args.error_status, "seed": args.fault_seed,
        "latency_ms": args.latency_ms, "fail_nth": fail_nth,
        "drop_connection_mid_upload": args.drop_connection_mid_upload,
    })


async def _serve(args: argparse.Namespace) -> None:
    emulator = GcsEmulator(args.host, args.port, args.data_dir, fault_config(args))
    url = await emulator.start()
    print(f"GCS emulator listening on {url}", flush=True)
    print(f"export STORAGE_EMULATOR_HOST={url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
