"""kill -9 during an ingestion, with real processes: a worker killed mid-partition has its partition redone by
another, and a daemon killed during the commit finishes it after a restart; either way the table holds each
source row exactly once, one ledger row records the load, no staged file stays behind and no process outlives
the ones that started it. Every process shares the test's Redis under its own namespace (`redis_client` is asked
for: its teardown deletes the namespace's keys)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
import psutil
import pytest
import redis.asyncio as aioredis

from domain.services.ingestion import partition_task_id
from tests.support.daemon import DaemonProcess
from tests.support.ingestion_kill import (
    EventWatch,
    SlowFiles,
    assert_each_source_row_once,
    descendants,
    distinct_rows,
    ledger_rows,
    progress,
    running_worker_pid,
    staged_leftovers,
    staging_dir,
    write_source,
)
from tests.support.processes import assert_all_gone
from tests.support.ws_client import TERMINAL, collect_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]
# pyarrow stages a local 500k-row partition in ~0.1 s, too fast to kill it mid-way reliably; over a throttled
# HTTP source, 1M rows (~47 MB) make partitions of ~3 s each, whatever the machine's speed.
STREAMED_ROWS = 1_000_000
STREAM_RATE = 4 << 20  # bytes per second per response
# ~95 MB of CSV, local: its de-duplicating commit takes ~0.3 s, a window to kill it in.
COMMITTED_ROWS = 2_000_000
LOAD_WRITTEN = 8 << 20  # of the ~20 MB the load writes: killed there, it is mid-transaction
PARTITIONS = 4


def env_for(redis_url: str, namespace: str, **extra: str) -> dict[str, str]:
    return {"MLPLANE_REDIS_URL": redis_url, "MLPLANE_ENV": namespace.split(":")[1], "MLPLANE_SEED_DEMO": "false",
            "MLPLANE_DUCKDB_MEMORY_LIMIT": "512MB", "MLPLANE_SHUTDOWN_GRACE_S": "5", **extra}


async def submit(session: aiohttp.ClientSession, url: str, source: Path | str, table: str) -> str:
    body = {"sources": [str(source)], "table": table, "partitions": PARTITIONS, "cleaning": {"dedupe": "exact"}}
    async with session.post(f"{url}/v1/ingestions", json=body) as response:
        assert response.status == 202, await response.text()
        return str((await response.json())["ingestion_id"])


async def busy_partition(watch: EventWatch, redis_url: str, namespace: str, ingestion_id: str,
                         workers: list[DaemonProcess]) -> tuple[int, DaemonProcess]:
    """A partition being staged (well before its end) and the worker staging it."""
    seen = 0
    while True:
        event = await watch.wait_for(lambda e: progress(e, "partition") and 0 < e["data"]["fraction"] < 0.6,
                                     start=seen)
        seen = watch.events.index(event) + 1
        index = event["data"]["partition"]
        pid = await running_worker_pid(redis_url, namespace, partition_task_id(ingestion_id, index))
        if victim := next((w for w in workers if w.pid == pid), None):  # None: it ended meanwhile
            return index, victim


async def table_rows(session: aiohttp.ClientSession, url: str, table: str) -> int:
    async with session.get(f"{url}/v1/tables/{table}") as response:
        assert response.status == 200, await response.text()
        return int((await response.json())["row_count"])


async def test_a_worker_killed_mid_partition_has_it_redone_and_each_row_loads_once(
        redis_url: str, redis_client: aioredis.Redis, namespace: str, tmp_path: Path,
        session: aiohttp.ClientSession) -> None:
    source, data = tmp_path / "src" / "events.csv", tmp_path / "data"
    source.parent.mkdir()
    generated = asyncio.create_task(asyncio.to_thread(write_source, source, STREAMED_ROWS))
    env = env_for(redis_url, namespace, MLPLANE_INGESTION_PROCESSES="1", MLPLANE_INGEST_HTTP_PRIVATE_HOSTS="true")
    # The daemon commits only; two ingestion workers share its Redis and data dir, as the README describes.
    daemon = DaemonProcess(data, {**env, "MLPLANE_DAEMON_QUEUES": '["training","commits"]'})
    workers = [DaemonProcess(data, env, ("worker", "--queue", "ingestion")) for _ in range(2)]
    started: list[psutil.Process] = []
    try:
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in (daemon, *workers)))
        await generated
        expected = await asyncio.to_thread(distinct_rows, source)
        with SlowFiles(source.parent) as files:
            ingestion_id = await submit(session, daemon.url, files.url(source.name), "events")
            watch = EventWatch(session, daemon.url, ingestion_id)
            await watch.wait_for(lambda e: progress(e, "planned"))
            files.rate = STREAM_RATE
            index, victim = await busy_partition(watch, redis_url, namespace, ingestion_id, workers)
            started = descendants(daemon, *workers)  # the victim's staging pool and its progress manager among them
            assert descendants(victim), "the partition is staged in a pool process of the worker"
            victim.kill()
            killed_at = len(watch.events)
            assert not any(progress(e, "staged") and e["data"]["partition"] == index for e in watch.events)
            final = await collect_events(session, daemon.url, ingestion_id, timeout=75)
            await watch.close()
            assert final[-1]["type"] == "completed", final[-1]
            redone = [e for e in final[killed_at:] if progress(e, "staged") and e["data"]["partition"] == index]
            assert redone, "the killed worker's partition was staged again by the other worker"
            assert final[-1]["data"]["rows_loaded"] == expected
            assert await table_rows(session, daemon.url, "events") == expected
        survivors = [p for p in (daemon, *workers) if p is not victim]
        for process in survivors:
            assert process.stop() == 0, process.log_text()[-3000:]
    finally:
        for process in (daemon, *workers):
            process.kill()
    assert_all_gone(started)
    assert staged_leftovers(data, ingestion_id) == []
    assert_each_source_row_once(data, "events", source, expected)
    assert ledger_rows(data, ingestion_id) == [("events", expected)]


def file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def kill_when(daemon: DaemonProcess, moment: str, data: Path, ingestion_id: str, timeout: float = 60.0) -> None:
    """SIGKILL the daemon, once the commit has begun, at `moment`: `loading`, when the load has written a good
    part of the rows into the warehouse file (DuckDB writes a big insert there before its COMMIT), or `loaded`,
    when the commit starts deleting the staged files (the load and its ledger row are committed, the job has
    not ended yet)."""
    warehouse = data / "warehouse.duckdb"
    at_start = file_size(warehouse)
    staged = [p for p in staging_dir(data, ingestion_id).iterdir() if p.suffix == ".parquet"]

    def reached() -> bool:
        if moment == "loading":
            return file_size(warehouse) - at_start >= LOAD_WRITTEN
        return not all(p.exists() for p in staged)

    deadline = time.monotonic() + timeout
    while not reached() and time.monotonic() < deadline:
        time.sleep(0.0005)
    os.kill(daemon.pid, signal.SIGKILL)


@pytest.mark.parametrize("moment", ["loading", "loaded"])
async def test_the_daemon_killed_during_the_commit_finishes_it_after_a_restart_loading_each_row_once(
        moment: str, redis_url: str, redis_client: aioredis.Redis, namespace: str, tmp_path: Path,
        session: aiohttp.ClientSession) -> None:
    source, data = tmp_path / "src" / "events.csv", tmp_path / "data"
    source.parent.mkdir()
    generated = asyncio.create_task(asyncio.to_thread(write_source, source, COMMITTED_ROWS))
    # External Redis: the queue and the job record outlive the daemon (an embedded one dies with it).
    env = env_for(redis_url, namespace, MLPLANE_INGESTION_PROCESSES="2")
    first, second = DaemonProcess(data, env), DaemonProcess(data, env)
    try:
        await asyncio.gather(asyncio.to_thread(first.start), generated)
        expected = await asyncio.to_thread(distinct_rows, source)
        ingestion_id = await submit(session, first.url, source, "events")
        watch = EventWatch(session, first.url, ingestion_id)
        await watch.wait_for(lambda e: progress(e, "commit"))  # sent just before the load starts
        started = descendants(first)
        await asyncio.to_thread(kill_when, first, moment, data, ingestion_id)
        first.kill()  # reaps it
        await watch.close()
        assert not any(e["type"] in TERMINAL for e in watch.events), watch.events[-1]
        assert_all_gone(started)
        # What the kill left: either a rolled-back load (no ledger row) or a committed one awaiting its job's end.
        assert ledger_rows(data, ingestion_id) == ([] if moment == "loading" else [("events", expected)])
        await asyncio.to_thread(second.start)
        final = await collect_events(session, second.url, ingestion_id, timeout=75)
        assert final[-1]["type"] == "completed", final[-1]
        assert sum(progress(e, "commit") for e in final) == 2, "the commit ran again after the restart"
        assert final[-1]["data"]["rows_loaded"] == expected
        assert await table_rows(session, second.url, "events") == expected
        started = descendants(second)
        assert second.stop() == 0, second.log_text()[-3000:]
    finally:
        first.kill()
        second.kill()
    assert_all_gone(started)
    assert staged_leftovers(data, ingestion_id) == []
    assert_each_source_row_once(data, "events", source, expected)
    assert ledger_rows(data, ingestion_id) == [("events", expected)]
