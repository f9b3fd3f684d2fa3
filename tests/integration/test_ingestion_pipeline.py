"""Ingestion through the real container: arq workers on real Redis, pyarrow staging, a real DuckDB file."""

from __future__ import annotations

import asyncio
import csv
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pytest

from domain.types.events import Event
from domain.types.ingestion import Cleaning, Dedupe, Dispatch, IngestionSpec, WriteMode
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration
HEADER = "id,name,score\n"


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    env = f"t{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=env, ingestion_processes=0,
                        seed_demo=False)
    async with running_container(settings) as container:
        yield container


async def finished(container: Container, job_id: str) -> list[Event]:
    """Every event of the job up to its terminal one."""
    seen: list[Event] = []
    async with asyncio.timeout(60):
        async for event in container.events().subscribe(f"job:{job_id}"):
            seen.append(event)
            if event.is_terminal:
                return seen
    raise AssertionError("unreachable")


def write_csv(path: Path, rows: list[str]) -> str:
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows))
    return str(path)


async def test_bad_rows_go_to_a_rejects_file_with_line_numbers_and_the_counts_add_up(container, tmp_path) -> None:
    rows = [f"{i},n{i},{i}.5" for i in range(300)] + ["0,n0,0.5"]  # one duplicate
    rows[10], rows[150], rows[200] = "10,too,many,columns", "150,n150,not-a-number", "200,n200,"
    source = write_csv(tmp_path / "people.csv", rows)
    spec = IngestionSpec((source,), "people", partitions=2, max_reject_ratio=0.1,
                         cleaning=Cleaning(Dedupe.EXACT, drop_nulls=("score",)))
    record = await container.ingestion().submit(spec)
    events = await finished(container, record.id)
    report = events[-1].data
    assert events[-1].type == "completed", report
    assert report["rows_read"] == 301 and report["rows_rejected"] == 2 and report["null_rows_dropped"] == 1
    assert report["rows_read"] == report["rows_staged"] + report["rows_rejected"] + report["null_rows_dropped"]
    assert report["rows_loaded"] == report["rows_staged"] - 1 == 297
    assert (await container.warehouse().describe("people")).row_count == 297
    rejected = [r for f in report["rejects_files"]
                for r in csv.DictReader(Path(urlparse(f).path).read_text().splitlines())]
    assert sorted(int(r["line"]) for r in rejected) == [12, 152]  # header is line 1, row i is line i + 2
    assert any(e.type == "progress" and e.data.get("stage") == "partition" for e in events)


async def test_too_many_rejects_fail_before_the_commit_and_leave_the_table_untouched(container, tmp_path) -> None:
    await container.warehouse().append("people", pa.table({"id": [1], "name": ["kept"], "score": [1.0]}))
    source = write_csv(tmp_path / "bad.csv", [f"{i},n{i},x{i}" if i % 3 == 0 else f"{i},n{i},1.0" for i in range(90)])
    record = await container.ingestion().submit(IngestionSpec((source,), "people", mode=WriteMode.REPLACE,
                                                              cleaning=Cleaning(schema={"score": "float64"}),
                                                              max_reject_ratio=0.1))
    events = await finished(container, record.id)
    assert events[-1].type == "failed"
    assert "30 of 90 rows were rejected" in events[-1].data["message"]
    assert "was not changed" in events[-1].data["message"]
    assert (await container.warehouse().read("people")).column("name").to_pylist() == ["kept"]
    left = [k.rsplit("/", 1)[-1] for k in await container.artifacts().list(f"staging/ingestions/{record.id}/")]
    assert not [k for k in left if k.endswith(".parquet")], left  # nothing will load them: deleted
    assert any(k.startswith("rejects-") for k in left), left  # the rejects say why: kept


async def test_a_partition_processed_twice_leaves_each_row_exactly_once(container, tmp_path) -> None:
    source = write_csv(tmp_path / "rows.csv", [f"{i},n{i},{i}" for i in range(1000)])
    record = await container.ingestion().submit(IngestionSpec((source,), "twice", partitions=3,
                                                              dispatch=Dispatch.EXTERNAL))
    stager = container.partition_stager()
    await stager.run_partition(record.id, 0)
    await stager.run_partition(record.id, 0)  # a worker died after staging: the partition is redone
    await stager.run_partition(record.id, 1)
    await stager.run_partition(record.id, 2)  # the last one enqueues the commit
    await stager.run_partition(record.id, 1)  # a late redelivery after the commit was enqueued
    events = await finished(container, record.id)
    assert events[-1].type == "completed", events[-1].data
    ids = (await container.warehouse().read("twice", ["id"])).column("id").to_pylist()
    assert sorted(ids) == list(range(1000))
    await container.ingestion_committer().commit(record.id)  # a redelivered commit loads nothing more
    assert (await container.warehouse().describe("twice")).row_count == 1000


async def test_replace_is_atomic_for_concurrent_readers(container, tmp_path) -> None:
    await container.warehouse().append("swap", pa.table({"id": list(range(1000)), "name": ["old"] * 1000,
                                                         "score": [0.0] * 1000}))
    source = write_csv(tmp_path / "new.csv", [f"{i},new,{i}" for i in range(300_000)])
    record = await container.ingestion().submit(IngestionSpec((source,), "swap", mode=WriteMode.REPLACE))
    seen: set[int] = set()
    done = asyncio.create_task(finished(container, record.id))
    while not done.done():
        seen.add((await container.warehouse().describe("swap")).row_count)
    assert (await done)[-1].type == "completed"
    seen.add((await container.warehouse().describe("swap")).row_count)
    assert seen == {1000, 300_000}
