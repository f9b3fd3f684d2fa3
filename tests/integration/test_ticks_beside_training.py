"""The minute ticks never wait behind a fit: the training worker runs one job at a time by default
(MLPLANE_TRAINING_CONCURRENCY=1), and a due ingestion schedule still fires on time while a long
training job holds it. Real arq workers on real Redis, the real container and DuckDB; only the fit is
a fake that runs until the test lets it end."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pyarrow as pa
import pytest
from dependency_injector import providers

from domain.services.ingestion_schedules import IngestionSchedule
from domain.types.jobs import JobState
from domain.types.training import TrainingSpec
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.workers import build_worker
from tests.fakes.model_backend import MajorityModelBackend
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration
ROWS = pa.table({"x": [i / 10 for i in range(40)], "y": [i % 2 for i in range(40)]})
SPEC = {"model_name": "slow", "algorithm": "majority", "task": "classification",
        "source": {"table": "rows", "features": ["x"], "label": "y"}}


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}", seed_demo=False, training_concurrency=1)
    async with running_container(settings, queues=()) as container:
        yield container


async def test_a_due_ingestion_schedule_fires_while_a_long_fit_holds_the_training_worker(
        container: Container, tmp_path: Path) -> None:
    fitting, release = asyncio.Event(), asyncio.Event()

    async def long_fit() -> None:
        fitting.set()
        await release.wait()

    backend = MajorityModelBackend()
    backend.on_fit = long_fit
    container.backend.override(providers.Object(backend))
    await container.warehouse().append("rows", ROWS)
    (tmp_path / "fresh.csv").write_text("id,v\n1,2\n")
    worker = build_worker(container, "training")
    await worker.start()
    try:
        job = await container.training().submit(TrainingSpec.from_dict(SPEC))
        await asyncio.wait_for(fitting.wait(), 30)
        schedule = IngestionSchedule("fresh", "* * * * *", {"sources": [str(tmp_path / "fresh.csv")], "table": "fresh"})
        await container.ingestion_schedules().set(schedule)  # its first fire: the next minute
        due_in = 60 - time.time() % 60
        async with asyncio.timeout(due_in + 20):  # the tick at second 0, plus room for a loaded machine
            while (last := await container.ingestion_schedules().last_run("fresh")) is None:
                await asyncio.sleep(0.2)
        assert last["ingestion_id"] is not None, last
        assert (await container.ingestion().get(last["ingestion_id"])).state is JobState.QUEUED
        assert (await container.training().get(job.id)).state is JobState.RUNNING  # the fit still holds it
        release.set()
        async with asyncio.timeout(30):
            while not (await container.training().get(job.id)).is_terminal:
                await asyncio.sleep(0.1)
        assert (await container.training().get(job.id)).state is JobState.COMPLETED
    finally:
        release.set()
        await worker.stop(grace_s=5)
