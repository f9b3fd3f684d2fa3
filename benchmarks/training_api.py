"""Training API benchmark: submit latency, first-event latency, API responsiveness while training,
and platform overhead against the same read+clean+fit+save done directly in a script.

Run: `make bench` or `python -m benchmarks.training_api [--jobs 200] [--rows 500000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from benchmarks._direct_training import direct_training_seconds
from benchmarks._probes import probe_while, submit_and_wait
from benchmarks._report import percentiles, report
from tests.support.daemon import DaemonProcess

SPEC = {"model_name": "bench", "algorithm": "decision_tree", "task": "classification",
        "source": {"table": "demo_events", "features": [f"f{i}" for i in range(8)], "label": "label"},
        "hyperparameters": {"max_depth": 12}}


async def submit_latencies(session: aiohttp.ClientSession, url: str, jobs: int) -> tuple[list[float], list[float]]:
    """Sequential submits: time to 202, and time from submit to the first WebSocket event."""
    to_202, to_event, job_ids = [], [], []
    for _ in range(jobs):
        started = time.perf_counter()
        async with session.post(f"{url}/v1/training-jobs", json=SPEC) as response:
            body = await response.json()
        to_202.append(time.perf_counter() - started)
        async with session.ws_connect(url.replace("http", "ws", 1) + body["events_url"]) as socket:
            await socket.receive()
        to_event.append(time.perf_counter() - started)
        job_ids.append(body["job_id"])
    for job_id in job_ids:  # leave the worker free for the next phase
        async with session.delete(f"{url}/v1/training-jobs/{job_id}"):
            pass
    return to_202, to_event


async def run(jobs: int, rows: int, repeats: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="mlplane-bench-"))
    env = {"MLPLANE_DEMO_ROWS": str(rows), "MLPLANE_LOG_LEVEL": "warning"}
    baseline_db = _seeded_copy(data_dir, env)  # the daemon locks its DuckDB file: the script reads a copy
    daemon = DaemonProcess(data_dir, env)
    url = daemon.start(timeout=180)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await submit_and_wait(session, url, SPEC)  # warm-up: process pool, imports, caches
            to_202, to_event = await submit_latencies(session, url, jobs)
            await asyncio.sleep(2)  # let the cancelled backlog drain
            _, probes = await probe_while(session, url, _jobs(session, url, repeats))
            job_times, direct = [], []
            for _ in range(repeats):  # interleaved, so both see the same machine load
                job_times.append(await submit_and_wait(session, url, SPEC))
                direct.append(direct_training_seconds(baseline_db, SPEC))
    finally:
        daemon.stop()
    _print(jobs, rows, to_202, to_event, probes["healthz"], probes["ws_rtt"], job_times, direct)


async def _jobs(session: aiohttp.ClientSession, url: str, count: int) -> float:
    return sum([await submit_and_wait(session, url, SPEC) for _ in range(count)])


def _seeded_copy(data_dir: Path, env: dict[str, str]) -> Path:
    seeding = DaemonProcess(data_dir, env)
    seeding.start(timeout=180)
    seeding.stop()
    copy = data_dir.parent / (data_dir.name + "-baseline.duckdb")
    shutil.copyfile(data_dir / "warehouse.duckdb", copy)
    return copy


def _print(jobs, rows, to_202, to_event, health, ws_rtt, job_times, direct) -> None:  # type: ignore[no-untyped-def]
    p202, pev, phz, pws = percentiles(to_202), percentiles(to_event), percentiles(health), percentiles(ws_rtt)
    daemon_s, direct_s = statistics.median(job_times), statistics.median(direct)
    overhead = (daemon_s - direct_s) / direct_s * 100
    rows_out = [
        ["submit -> 202", f"{p202['p50_ms']:.2f} ms", f"{p202['p99_ms']:.2f} ms", "p99 <= 10 ms", jobs],
        ["submit -> first WS event", f"{pev['p50_ms']:.2f} ms", f"{pev['p99_ms']:.2f} ms", "p99 <= 100 ms", jobs],
        ["GET /healthz while training", f"{phz['p50_ms']:.2f} ms", f"{phz['p99_ms']:.2f} ms", "p99 <= 50 ms",
         phz["n"]],
        ["WS round trip while training", f"{pws['p50_ms']:.2f} ms", f"{pws['p99_ms']:.2f} ms", "p99 <= 50 ms",
         pws["n"]],
        ["job total (daemon), median", f"{daemon_s:.2f} s", "", "", len(job_times)],
        ["same steps in a script, median", f"{direct_s:.2f} s", "", "", len(direct)],
        ["platform overhead", f"{overhead:+.1f} %", "", "<= 10 %", ""],
    ]
    report("training_api", f"Training API, decision tree on {rows:,} rows",
           ["measure", "p50 / value", "p99", "target", "samples"], rows_out,
           {"rows": rows, "submit_to_202": p202, "submit_to_first_event": pev, "healthz_during_training": phz,
            "ws_rtt_during_training": pws, "job_seconds": job_times, "direct_seconds": direct,
            "overhead_percent": overhead})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.jobs, args.rows, args.repeats))


if __name__ == "__main__":
    main()
