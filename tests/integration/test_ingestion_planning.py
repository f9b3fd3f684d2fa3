"""Planning after the 202, through the real container: arq on real Redis, real CSV files, a real DuckDB file.

No ingestion worker runs until a test starts one, so what happens between the submit and the plan
is under the test's control.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pyarrow as pa
import pytest

from domain.types.ingestion import IngestionSpec, WriteMode
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.workers import build_worker
from tests.integration.test_ingestion_pipeline import finished, write_csv
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}",
                        ingestion_processes=0, seed_demo=False)
    async with running_container(settings, queues=("commits",)) as container:
        yield container


@contextlib.asynccontextmanager
async def ingestion_worker(container: Container) -> AsyncIterator[None]:
    worker = build_worker(container, "ingestion")
    await worker.start()
    try:
        yield
    finally:
        await worker.stop(grace_s=2)


async def test_the_202_comes_before_the_split_and_a_twice_delivered_plan_lands_each_row_once(
        container: Container, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "rows.csv", [f"{i},n{i},{i}" for i in range(20_000)])
    record = await container.ingestion().submit(IngestionSpec((source,), "rows", partitions=3))
    assert "plan" not in record.spec and record.spec["inputs"]["files"][0]["size"] == Path(source).stat().st_size
    await container.ingestion_planner().run(record.id)  # delivered twice before the worker takes the queued one
    await container.ingestion_planner().run(record.id)
    async with ingestion_worker(container):
        events = await finished(container, record.id)
    assert events[-1].type == "completed", events[-1].data
    assert events[0].type == "queued" and "partitions" not in events[0].data and events[0].data["sources"] == 1
    assert [e.data["partitions"] for e in events if e.data.get("stage") == "planned"] == [3]
    assert sorted({e.data["partition"] for e in events if e.data.get("stage") == "staged"}) == [0, 1, 2]
    ids = (await container.warehouse().read("rows", ["id"])).column("id").to_pylist()
    assert sorted(ids) == list(range(20_000))


async def test_a_file_deleted_between_submit_and_planning_fails_naming_it_and_leaves_the_table(
        container: Container, tmp_path: Path) -> None:
    await container.warehouse().append("people", pa.table({"id": [1], "name": ["kept"], "score": [1.0]}))
    source = write_csv(tmp_path / "people.csv", [f"{i},n{i},{i}" for i in range(1000)])
    record = await container.ingestion().submit(IngestionSpec((source,), "people", partitions=2,
                                                              mode=WriteMode.REPLACE))
    Path(source).unlink()
    async with ingestion_worker(container):
        events = await finished(container, record.id)
    assert events[-1].type == "failed" and source in events[-1].data["message"], events[-1].data
    assert (await container.ingestion().get(record.id)).state.value == "failed"
    assert (await container.warehouse().read("people")).column("name").to_pylist() == ["kept"]
