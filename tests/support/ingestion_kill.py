"""Helpers for the kill -9 ingestion tests: a source with duplicate rows, a throttled HTTP file server, a live
view of a job's events, the processes a process started, and what an ingestion left in the data dir."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import duckdb
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.csv as pacsv
import redis.asyncio as aioredis
from aiohttp import web

from adapters.arq.task_queue import arq_job_id
from tests.support.daemon import DaemonProcess
from tests.support.http_files import FileServer
from tests.support.ws_client import TERMINAL

Event = dict[str, Any]


def write_source(path: Path, rows: int, seed: int = 11) -> None:
    """id, key, f0..f3; ~1% of the rows repeat a random other row exactly, most of them in another partition."""
    rng = np.random.default_rng(seed)
    take = np.arange(rows)
    copies = rng.random(rows) < 0.01
    take[copies] = rng.choice(np.flatnonzero(~copies), int(copies.sum()))
    keys = np.array([f"k{i}" for i in range(997)])
    columns = {"id": pa.array(take.astype(np.int64)), "key": pa.array(keys[take % 997])}
    for i in range(4):  # three decimals: the CSV text reads back as the same double everywhere
        columns[f"f{i}"] = pa.array((rng.integers(0, 10**7, rows) / 1000.0)[take])
    pacsv.write_csv(pa.table(columns), path, pacsv.WriteOptions(quoting_style="none"))


def distinct_rows(source: Path) -> int:
    with duckdb.connect() as db:
        return int(db.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM read_csv('{source}'))").fetchall()[0][0])


class SlowFiles(FileServer):
    """Byte ranges streamed at `rate` bytes a second per response once it is set (0: full speed, so planning,
    which scans the whole file, is quick); a change applies to the responses already streaming."""

    rate = 0

    async def _file(self, request: web.Request) -> web.StreamResponse:
        path = self.root / request.match_info["name"]
        size = path.stat().st_size
        found = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
        first, last = (int(found[1]), min(int(found[2] or size - 1), size - 1)) if found else (0, size - 1)
        response = web.StreamResponse(status=206 if found else 200, headers={
            "Content-Length": str(last - first + 1), "Accept-Ranges": "bytes",
            **({"Content-Range": f"bytes {first}-{last}/{size}"} if found else {})})
        await response.prepare(request)
        with path.open("rb") as handle, contextlib.suppress(ConnectionError):  # a killed reader hangs up
            handle.seek(first)
            while first <= last and (chunk := handle.read(min(64 << 10, last - first + 1))):
                await response.write(chunk)
                first += len(chunk)
                await asyncio.sleep(len(chunk) / self.rate if self.rate else 0)
        return response


class EventWatch:
    """The job's events as they arrive (backlog first), kept in order; `wait_for` returns the first match."""

    def __init__(self, session: aiohttp.ClientSession, url: str, job_id: str) -> None:
        self.events: list[Event] = []
        self._ws_url = url.replace("http://", "ws://") + f"/v1/training-jobs/{job_id}/events"
        self._session = session
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(aiohttp.ClientError):  # the daemon may be killed under it
            async with self._session.ws_connect(self._ws_url) as socket:
                async for message in socket:
                    self.events.append(json.loads(message.data))
                    self._arrived.set()
        self._arrived.set()

    async def wait_for(self, match: Callable[[Event], bool], timeout: float = 60.0, start: int = 0) -> Event:
        """The first event from index `start` on that `match` accepts; fails if the job ends first."""
        async with asyncio.timeout(timeout):
            while True:
                self._arrived.clear()
                if found := next((e for e in self.events[start:] if match(e)), None):
                    return found
                assert not (self._task.done() or any(e["type"] in TERMINAL for e in self.events)), self.events[-3:]
                await self._arrived.wait()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def progress(event: Event, stage: str) -> bool:
    return event["type"] == "progress" and event["data"].get("stage") == stage


async def running_worker_pid(redis_url: str, namespace: str, task_id: str) -> int | None:
    """Which process runs a task: the lease hash maps arq's job id to the worker id `host-pid-random`."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        owner = await client.hget(f"{namespace}running-jobs", arq_job_id(namespace, task_id))
    finally:
        await client.aclose()
    return int(owner.decode().rsplit("-", 2)[1]) if owner else None


def descendants(*processes: DaemonProcess) -> list[psutil.Process]:
    found = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            found += psutil.Process(process.pid).children(recursive=True)
    return found


def staging_dir(data_dir: Path, ingestion_id: str) -> Path:
    return data_dir / "artifacts" / "staging" / "ingestions" / ingestion_id


def staged_leftovers(data_dir: Path, ingestion_id: str) -> list[str]:
    """Staged Parquet files and temp files (a killed stager's half-written ones too): reports and rejects stay."""
    folder = staging_dir(data_dir, ingestion_id)
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".parquet" or p.name.startswith(".tmp-"))


def assert_each_source_row_once(data_dir: Path, table: str, source: Path, expected: int) -> None:
    """Every distinct source row is in the table, and the table has no more rows than that: so each row once."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as db:
        assert db.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (expected,)
        missing = db.execute(f"SELECT count(*) FROM (SELECT * FROM read_csv('{source}') EXCEPT "
                             f'SELECT * FROM "{table}")').fetchone()
        assert missing == (0,)


def ledger_rows(data_dir: Path, load_id: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as db:
        if not db.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'mlplane_meta'").fetchall():
            return []
        return db.execute("SELECT table_name, rows FROM mlplane_meta.loads WHERE load_id = ?", [load_id]).fetchall()
