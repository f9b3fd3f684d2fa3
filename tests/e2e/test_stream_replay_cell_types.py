"""`mlplane stream replay FILE.csv` against a real daemon: each CSV cell is sent as the value it holds,
whatever the rows before it held, so a file whose first MiB shows only integers replays to the end, and
one bad cell dead-letters its own event only (the pipeline's parser judges what reached the stream)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio as aioredis

from domain.types.event_batch import parse_batch
from domain.types.streams import StreamEntry
from tests.support.daemon import DaemonProcess, run_on_tests_redis

pytestmark = pytest.mark.e2e
ENV = f"replaytypes-{uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def daemon(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """No demo: nothing reads these streams, so the test reads exactly what the replay appended."""
    yield from run_on_tests_redis(redis_url, tmp_path_factory.mktemp("replay-types"), ENV,
                                  {"MLPLANE_SEED_DEMO": "false"})


async def replay(daemon: DaemonProcess, path: Path, stream: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "entrypoints.cli", "stream", "replay", str(path), "--stream", stream,
               "--rate", "0", "--url", daemon.url]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)


async def entries(redis_url: str, stream: str, last: int | None = None) -> list[StreamEntry]:
    client = aioredis.from_url(redis_url)
    try:
        key = f"mlplane:{ENV}:stream:{stream}"
        found = await client.xrevrange(key, count=last) if last else (await client.xrange(key))[::-1]
    finally:
        await client.aclose()
    return [StreamEntry(i.decode(), fields[b"data"].decode()) for i, fields in reversed(found)]


def events(found: list[StreamEntry]) -> list[dict[str, Any]]:
    return [json.loads(e.raw) for e in found]


async def test_a_csv_whose_first_mib_holds_integers_replays_its_later_decimals(
        daemon: DaemonProcess, redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    lines = ["entity_id,f0", *(f"entity-{i:06d},{i % 2}" for i in range(70_000)),
             *(f"late-{i},0.5" for i in range(10))]
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 1 << 20  # past the first block the reader looks at

    done = await replay(daemon, path, "big")

    assert done.returncode == 0, done.stderr
    assert '"events": 70010' in done.stdout
    assert events(await entries(redis_url, "big", last=11)) == [
        {"entity_id": "entity-069999", "f0": 1}, *({"entity_id": f"late-{i}", "f0": 0.5} for i in range(10))]


async def test_one_bad_cell_dead_letters_its_own_event_only(daemon: DaemonProcess, redis_url: str,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("entity_id,f0,f1,ts\nx1,a,1,\nx2,0.5,2,2024-01-01T00:00:00Z\nx3,,3,1700000000\n7,1e999,4,\n")

    done = await replay(daemon, path, "mixed")

    assert done.returncode == 0, done.stderr
    found = await entries(redis_url, "mixed")
    assert events(found) == [
        {"entity_id": "x1", "f0": "a", "f1": 1},  # the text, as it is
        {"entity_id": "x2", "f0": 0.5, "f1": 2, "ts": "2024-01-01T00:00:00Z"},
        {"entity_id": "x3", "f1": 3, "ts": 1700000000},  # an empty cell is no field
        {"entity_id": 7, "f0": "1e999", "f1": 4},  # not a finite number: text
    ]
    batch, rejected = parse_batch(found, "entity_id", ("f0", "f1"))
    assert batch.entities == ["x2"] and batch.values.tolist() == [[0.5, 2.0]]
    assert [reason for _, reason in rejected] == [
        "field 'f0' must be a finite number, got 'a'", "field 'f0' must be a finite number, got None",
        "field 'f0' must be a finite number, got '1e999'"]


async def test_a_parquet_file_keeps_its_own_types(daemon: DaemonProcess, redis_url: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"entity_id": ["001", "002"], "f0": [1.0, 2.5], "n": [3, None]}), path)

    done = await replay(daemon, path, "typed")

    assert done.returncode == 0, done.stderr
    assert events(await entries(redis_url, "typed")) == [{"entity_id": "001", "f0": 1.0, "n": 3},
                                                         {"entity_id": "002", "f0": 2.5}]
