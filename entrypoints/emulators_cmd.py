"""`mlplane emulators`: both local Google API emulators on loopback, until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from emulators.bigquery.server import BigQueryEmulator
from emulators.gcs.server import GcsEmulatorThread


def run_emulators(host: str, gcs_port: int, bigquery_port: int, data_dir: Path | None) -> int:
    gcs = GcsEmulatorThread(host=host, port=gcs_port, data_dir=_sub(data_dir, "gcs"))
    gcs_url = gcs.start()
    bigquery = BigQueryEmulator(host=host, port=bigquery_port, data_dir=_sub(data_dir, "bigquery"),
                                gcs_url=gcs_url)
    try:
        bigquery_url = bigquery.start()
        print(
            "mlplane emulators running (Ctrl-C stops them). Point clients and the emulated profile at them:\n"
            f"  export STORAGE_EMULATOR_HOST={gcs_url}\n"
            f"  export MLPLANE_GCS_EMULATOR_URL={gcs_url}\n"
            f"  export MLPLANE_BIGQUERY_EMULATOR_URL={bigquery_url}\n"
            "  export MLPLANE_PROFILE=emulated",
            flush=True,
        )
        _wait_for_signal()
    finally:
        bigquery.stop()
        gcs.stop()
    return 0


def _sub(data_dir: Path | None, name: str) -> str | None:
    if data_dir is None:
        return None
    (data_dir / name).mkdir(parents=True, exist_ok=True)
    return str(data_dir / name)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
