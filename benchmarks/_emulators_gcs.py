"""The GCS half of the emulator benchmark (`python -m benchmarks.emulators`): upload and download
through `google-cloud-storage` against the memory-backed emulator, next to writing and reading the
same bytes as files in a temp dir, and the table rows that summarise both."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._emulators_shared import subprocess_emulator, timed

KIB, MIB = 1024, 1024 * 1024


@contextlib.contextmanager
def gcs_emulator(process: bool) -> Iterator[str]:
    if process:
        with subprocess_emulator("gcs", "--log-level", "WARNING") as url:
            yield url
        return
    from emulators.gcs.server import GcsEmulatorThread

    with GcsEmulatorThread(port=0) as emulator:  # memory backend
        yield emulator.url


def bench_gcs(sizes: list[tuple[int, int]], process: bool) -> dict[str, Any]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    results: dict[str, Any] = {}
    with gcs_emulator(process) as url, tempfile.TemporaryDirectory(prefix="mlplane-bench-disk-") as tmp:
        client = storage.Client(project="test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": url})
        bucket = client.create_bucket("bench")
        bucket.blob("warm-up").upload_from_string(b"x")  # connection pool, lazy imports
        bucket.blob("warm-up").download_as_bytes()
        for size, repeats in sizes:
            data = os.urandom(size)
            label = _size_label(size)
            directory = Path(tmp) / label
            directory.mkdir()

            def upload(i: int, data: bytes = data, label: str = label) -> None:
                bucket.blob(f"{label}/{i}").upload_from_string(data, content_type="application/octet-stream")

            def download(i: int, data: bytes = data, label: str = label) -> None:
                if len(bucket.blob(f"{label}/{i}").download_as_bytes()) != len(data):
                    raise AssertionError("short download")

            def write(i: int, data: bytes = data, directory: Path = directory) -> None:
                (directory / str(i)).write_bytes(data)

            def read(i: int, data: bytes = data, directory: Path = directory) -> None:
                if len((directory / str(i)).read_bytes()) != len(data):
                    raise AssertionError("short read")

            results[label] = {"bytes": size, "repeats": repeats,
                              "upload": {"emulator_s": timed(upload, repeats), "disk_s": timed(write, repeats)},
                              "download": {"emulator_s": timed(download, repeats), "disk_s": timed(read, repeats)}}
            for blob in client.list_blobs(bucket, prefix=f"{label}/"):  # keep the memory backend small
                blob.delete()
    return results


def gcs_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for label, entry in results.items():
        for op in ("upload", "download"):
            emulator_s = statistics.median(entry[op]["emulator_s"])
            disk_s = statistics.median(entry[op]["disk_s"])
            entry[op].update({"emulator_median_s": emulator_s, "disk_median_s": disk_s,
                              "emulator_ops_s": 1 / emulator_s, "disk_ops_s": 1 / disk_s,
                              "emulator_mib_s": entry["bytes"] / MIB / emulator_s,
                              "disk_mib_s": entry["bytes"] / MIB / disk_s, "time_ratio": emulator_s / disk_s})
            e = entry[op]
            rows.append([label, op, entry["repeats"], _num(e["emulator_ops_s"]), _num(e["emulator_mib_s"]),
                         _num(e["disk_ops_s"]), _num(e["disk_mib_s"]), f"{e['time_ratio']:,.1f}x"])
    return rows


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _size_label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // KIB} KiB"
