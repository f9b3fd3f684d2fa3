"""Ingestion benchmark: naive pandas vs mlplane partitions 1/2/4 vs DuckDB's own reader, CSV and Parquet.

Every path runs as its own process tree (the mlplane one is a real daemon, `mlplane up`, taking
`POST /v1/ingestions` and followed over its WebSocket to `completed`); wall time and peak RSS are
sampled with psutil. Each ends with the clean rows (deduplicated, no nulls) in a DuckDB table.

Run: `python -m benchmarks.ingestion [--rows 5000000] [--partitions 1 2 4]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._ingestion_data import generate
from benchmarks._ingestion_paths import COLUMNS
from benchmarks._measure import Measured, measure
from benchmarks._report import report
from tests.support.daemon import DaemonProcess

DATA_DIR = Path(tempfile.gettempdir()) / "mlplane-bench-ingestion"
DAEMON_ENV = {"MLPLANE_DUCKDB_MEMORY_LIMIT": "256MB"}  # the commit spills instead of growing the daemon


def baseline(path: str, fmt: str, source: Path, work: Path) -> tuple[int, Measured]:
    db = work / f"{path}-{fmt}.duckdb"
    db.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "benchmarks._ingestion_paths", path, fmt, str(source), str(db)],
                               stdout=subprocess.PIPE, text=True)
    out, measured = measure(process.pid, lambda: process.communicate()[0])
    assert process.returncode == 0, out
    return int(out.strip().split("=")[1]), measured


def mlplane(fmt: str, source: Path, partitions: int, work: Path) -> tuple[int, Measured]:
    daemon = DaemonProcess(Path(tempfile.mkdtemp(dir=work)), {"MLPLANE_SEED_DEMO": "false",
                                                              "MLPLANE_LOG_LEVEL": "warning", **DAEMON_ENV})
    url = daemon.start(timeout=120)
    body = {"sources": [str(source)], "table": "bench", "format": fmt, "mode": "replace", "partitions": partitions,
            "cleaning": {"dedupe": "exact", "drop_nulls": COLUMNS}}
    try:
        # A daemon is long-lived: start its staging processes before timing, as any earlier ingestion would.
        asyncio.run(_ingest(url, {**body, "sources": [str(_warm_up_file(work))], "format": "csv", "table": "warm"}))
        rows, measured = measure(daemon.pid, lambda: asyncio.run(_ingest(url, body)))
    finally:
        daemon.stop()
    return rows, measured


def _warm_up_file(work: Path) -> Path:
    path = work / "warm-up.csv"
    header = ",".join(COLUMNS)
    path.write_text(header + "\n" + "\n".join(f"{i},2026-01-01 00:00:00,k{i}," + "0.5," * 8 + "1" for i in range(200)))
    return path


async def _ingest(url: str, body: dict[str, Any]) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/ingestions", json=body) as response:
            accepted = await response.json()
        assert response.status == 202, accepted
        async with session.ws_connect(url.replace("http", "ws", 1) + accepted["events_url"]) as socket:
            async for message in socket:
                event = json.loads(message.data)
                if event["type"] in ("completed", "failed", "cancelled"):
                    assert event["type"] == "completed", event
                    return int(event["data"]["rows_loaded"])
    raise RuntimeError("event stream ended without a terminal event")


def run(rows: int, partitions: list[int]) -> None:
    work = DATA_DIR / "runs"
    work.mkdir(parents=True, exist_ok=True)
    files = dict(zip(("csv", "parquet"), generate(rows, DATA_DIR), strict=True))
    results: dict[tuple[str, str], tuple[int, Measured]] = {}
    for fmt, source in files.items():
        results[("naive pandas", fmt)] = baseline("naive", fmt, source, work)
        for n in partitions:
            results[(f"mlplane p{n}", fmt)] = mlplane(fmt, source, n, work)
        results[("duckdb reader", fmt)] = baseline("duckdb", fmt, source, work)
    _report(rows, files, results)


def _report(rows: int, files: dict[str, Path], results: dict[tuple[str, str], tuple[int, Measured]]) -> None:
    table, data = [], []
    for (path, fmt), (kept, m) in results.items():
        naive, ceiling = results[("naive pandas", fmt)][1], results[("duckdb reader", fmt)][1]
        row = {"path": path, "format": fmt, "seconds": m.seconds, "peak_largest_mib": m.peak_largest_mib,
               "peak_child_mib": m.peak_child_mib,
               "peak_sum_mib": m.peak_sum_mib, "added_mib": m.added_mib, "rows_per_s": rows / m.seconds,
               "rows_kept": kept,
               "speedup_vs_naive": naive.seconds / m.seconds, "time_vs_duckdb": m.seconds / ceiling.seconds,
               "largest_peak_vs_naive": m.peak_largest_mib / naive.peak_largest_mib}
        data.append(row)
        table.append([path, fmt, m.seconds, m.peak_largest_mib, m.peak_child_mib, m.peak_sum_mib, m.added_mib,
                      f"{row['rows_per_s']:,.0f}",
                      f"{row['speedup_vs_naive']:.2f}x", f"{row['time_vs_duckdb']:.2f}x",
                      f"{row['largest_peak_vs_naive']:.0%}", f"{kept:,}"])
    columns = ["path", "format", "seconds", "peak MiB (largest)", "largest child", "peak MiB (sum)", "MiB added",
               "rows/s",
               "vs naive (speed)",
               "vs DuckDB (time)", "peak vs naive", "rows kept"]
    sizes = {fmt: round(path.stat().st_size / (1 << 20), 1) for fmt, path in files.items()}
    report("ingestion", f"Ingestion of {rows:,} rows (CSV {sizes['csv']} MiB, Parquet {sizes['parquet']} MiB)",
           columns, table, {"rows": rows, "input_mib": sizes, "daemon_env": DAEMON_ENV, "results": data})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    run(args.rows, args.partitions)


if __name__ == "__main__":
    main()
