"""Ingestion benchmark: naive pandas vs mlplane partitions 1/2/4 vs DuckDB's own reader, CSV and Parquet.

Every path runs as its own process tree (the mlplane one is a real daemon, `mlplane up`, taking
`POST /v1/ingestions` and followed over its WebSocket to `completed`); wall time and peak RSS are
sampled with psutil. Each ends with the clean rows (deduplicated, no nulls) in a DuckDB table.

The daemon runs with its defaults (DuckDB capped at 256MB); one more path runs the cores' partition
count under a smaller `MLPLANE_DUCKDB_MEMORY_LIMIT` (the commit spills rather than grows the daemon).

Run: `python -m benchmarks.ingestion [--rows 5000000] [--partitions 1 2 4] [--workers 2] [--memory-limit 64MB]
[--repeat 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._ingestion_daemon import ingest, redis_for_workers, warm_up_file
from benchmarks._ingestion_data import generate
from benchmarks._ingestion_paths import COLUMNS
from benchmarks._measure import Measured, measure
from benchmarks._report import report
from tests.support.daemon import DaemonProcess

DATA_DIR = Path(tempfile.gettempdir()) / "mlplane-bench-ingestion"


def baseline(path: str, fmt: str, source: Path, work: Path) -> tuple[int, Measured]:
    db = work / f"{path}-{fmt}.duckdb"
    db.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "benchmarks._ingestion_paths", path, fmt, str(source), str(db)],
                               stdout=subprocess.PIPE, text=True)
    out, measured = measure(process.pid, lambda: process.communicate()[0])
    assert process.returncode == 0, out
    return int(out.strip().split("=")[1]), measured


def mlplane(fmt: str, source: Path, partitions: int, work: Path, workers: int = 0,
            memory_limit: str | None = None) -> tuple[int, Measured]:
    """`workers` > 0: the daemon leaves the ingestion queue to that many `mlplane worker --queue ingestion`
    processes (one staging process each) sharing its Redis; it still commits (it owns the DuckDB file)."""
    data_dir = Path(tempfile.mkdtemp(dir=work))
    with redis_for_workers(data_dir, workers) as redis_env:
        env = {"MLPLANE_SEED_DEMO": "false", "MLPLANE_LOG_LEVEL": "warning", **redis_env}
        if memory_limit:
            env["MLPLANE_DUCKDB_MEMORY_LIMIT"] = memory_limit
        if workers:
            env["MLPLANE_DAEMON_QUEUES"] = '["training", "commits", "actions"]'
        daemon = DaemonProcess(data_dir, env)
        helpers = [DaemonProcess(data_dir, {**env, "MLPLANE_INGESTION_PROCESSES": "1"},
                                 ("worker", "--queue", "ingestion")) for _ in range(workers)]
        url = daemon.start(timeout=120)
        for helper in helpers:
            helper.start(timeout=120)
        body = {"sources": [str(source)], "table": "bench", "format": fmt, "mode": "replace",
                "partitions": partitions, "cleaning": {"dedupe": "exact", "drop_nulls": COLUMNS}}
        try:
            # A daemon is long-lived: start its staging processes before timing, as any earlier ingestion
            # would. All of them: one partition only started one, and the timed run paid ~0.4 s to start the next.
            warm = {**body, "sources": [str(warm_up_file(work))], "format": "csv", "table": "warm"}
            asyncio.run(ingest(url, {**warm, "partitions": workers or os.cpu_count() or 1}))
            pids = [daemon.pid, *(h.pid for h in helpers)]
            rows, measured = measure(pids, lambda: asyncio.run(ingest(url, body)))
        finally:
            for process in [*helpers, daemon]:
                process.stop()
    return rows, measured


def run(rows: int, partitions: list[int], workers: int, memory_limit: str, repeat: int) -> None:
    work = DATA_DIR / "runs"
    work.mkdir(parents=True, exist_ok=True)
    files = dict(zip(("csv", "parquet"), generate(rows, DATA_DIR), strict=True))
    paths: dict[str, Callable[[str, Path], tuple[int, Measured]]] = {
        "naive pandas": lambda fmt, source: baseline("naive", fmt, source, work)}
    for n in partitions:
        paths[f"mlplane p{n}"] = lambda fmt, source, n=n: mlplane(fmt, source, n, work)  # type: ignore[misc]
    if workers:
        paths[f"mlplane p{max(partitions)}, {workers} workers"] = lambda fmt, source: mlplane(
            fmt, source, max(partitions), work, workers)
    if memory_limit:
        cores = min(partitions, key=lambda n: abs(n - (os.cpu_count() or 1)))
        paths[f"mlplane p{cores}, memory_limit {memory_limit}"] = lambda fmt, source: mlplane(
            fmt, source, cores, work, memory_limit=memory_limit)
    paths["duckdb reader"] = lambda fmt, source: baseline("duckdb", fmt, source, work)
    runs: dict[tuple[str, str], list[tuple[int, Measured]]] = {}
    for _ in range(repeat):  # rounds interleave the paths, so a burst of load from elsewhere hits them all alike
        for fmt, source in files.items():
            for name, path in paths.items():
                runs.setdefault((name, fmt), []).append(path(fmt, source))
    _report(rows, files, {key: _median(values) for key, values in runs.items()}, repeat, memory_limit)


def _median(runs: list[tuple[int, Measured]]) -> tuple[int, Measured]:
    """Each figure is its median over the runs of one path (which must all keep the same rows)."""
    kept = {rows for rows, _ in runs}
    assert len(kept) == 1, f"runs of one path kept different row counts: {sorted(kept)}"
    figures = {f.name: statistics.median(getattr(m, f.name) for _, m in runs) for f in dataclasses.fields(Measured)}
    return kept.pop(), Measured(**figures)


def _report(rows: int, files: dict[str, Path], results: dict[tuple[str, str], tuple[int, Measured]],
            repeat: int, memory_limit: str) -> None:
    table, data = [], []
    for (path, fmt), (kept, m) in results.items():
        row = _row(rows, path, fmt, kept, m, results[("naive pandas", fmt)][1], results[("duckdb reader", fmt)][1])
        data.append(row)
        table.append([path, fmt, m.seconds, f"{row['rows_per_s']:,.0f}", f"{row['speedup_vs_naive']:.2f}x",
                      f"{row['time_vs_duckdb']:.2f}x", m.peak_largest_mib, row["worker_peak_mib"],
                      f"{row['worker_peak_vs_naive']:.0%}", f"{m.root_idle_mib:,.0f} -> {m.root_peak_mib:,.0f}"
                      if m.root_idle_mib else "", m.peak_sum_mib, f"{kept:,}"])
    columns = ["path", "format", "seconds", "rows/s", "vs naive (speed)", "vs DuckDB (time)", "largest process MiB",
               "largest worker MiB", "worker peak vs naive", "daemon MiB idle -> peak", "all processes MiB",
               "rows kept"]
    sizes = {fmt: round(path.stat().st_size / (1 << 20), 1) for fmt, path in files.items()}
    paths = dict.fromkeys(p for p, _ in results if p.startswith("mlplane"))
    csv_over_parquet = {p: results[(p, "csv")][1].seconds / results[(p, "parquet")][1].seconds for p in paths
                        if (p, "csv") in results and (p, "parquet") in results}
    report("ingestion", f"Ingestion of {rows:,} rows (CSV {sizes['csv']} MiB, Parquet {sizes['parquet']} MiB), "
           f"median of {repeat} run(s)", columns, table,
           {"rows": rows, "input_mib": sizes, "memory_limit_path": memory_limit, "repeat": repeat, "results": data,
            "parquet_speedup_over_csv": csv_over_parquet})
    for path, ratio in csv_over_parquet.items():
        print(f"{path}: Parquet {ratio:.2f}x faster than CSV")


def _row(rows: int, path: str, fmt: str, kept: int, m: Measured, naive: Measured, ceiling: Measured) -> dict[str, Any]:
    # A baseline is one process doing everything; for mlplane the workers are the processes other
    # than the daemon (staging processes, separate workers), and the daemon is reported on its own.
    worker = m.peak_child_mib if path.startswith("mlplane") else m.peak_largest_mib
    return {"path": path, "format": fmt, "seconds": m.seconds, "rows_per_s": rows / m.seconds, "rows_kept": kept,
            "peak_largest_mib": m.peak_largest_mib, "worker_peak_mib": worker, "peak_sum_mib": m.peak_sum_mib,
            "daemon_idle_mib": m.root_idle_mib, "daemon_peak_mib": m.root_peak_mib,
            "speedup_vs_naive": naive.seconds / m.seconds, "time_vs_duckdb": m.seconds / ceiling.seconds,
            "worker_peak_vs_naive": worker / naive.peak_largest_mib,
            "largest_peak_vs_naive": m.peak_largest_mib / naive.peak_largest_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, default=2, help="separate staging worker processes (0: skip)")
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory limit of one more path ('': skip)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per path; each figure is their median")
    args = parser.parse_args()
    run(args.rows, args.partitions, args.workers, args.memory_limit, args.repeat)


if __name__ == "__main__":
    main()
