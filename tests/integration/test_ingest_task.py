"""`mlplane ingest-task` as Cloud Run Job tasks: two processes share the partitions, the daemon side commits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from domain.types.ingestion import Dispatch, IngestionSpec
from entrypoints.container import Container
from entrypoints.runtime import build_container, open_runtime
from entrypoints.settings import Settings
from entrypoints.workers import build_worker

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}",
                        seed_demo=False, ingestion_processes=0)
    container = build_container(settings)
    async with open_runtime(container):
        worker = build_worker(container, "commits")  # commits only: partitions are the tasks' job
        await worker.start()
        yield container
        await worker.stop(grace_s=2)
    client = aioredis.Redis.from_url(redis_url)
    keys = [k async for k in client.scan_iter(match=f"{settings.namespace}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def task(container: Container, ingestion_id: str, index: int, count: int) -> subprocess.Popen[str]:
    settings = container.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPLANE_", "CLOUD_RUN_"))}
    env.update({"MLPLANE_REDIS_URL": container.redis_url(), "MLPLANE_ENV": settings.env,
                "MLPLANE_INGESTION_PROCESSES": "0", "CLOUD_RUN_TASK_INDEX": str(index),
                "CLOUD_RUN_TASK_COUNT": str(count)})
    return subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "ingest-task", "--plan", ingestion_id,
                             "--data-dir", str(settings.data_dir)], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def test_two_tasks_stage_every_partition_once_and_the_commit_loads_them(container, tmp_path) -> None:
    (tmp_path / "rows.csv").write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(5000)))
    spec = IngestionSpec((str(tmp_path / "rows.csv"),), "tasks", partitions=5, dispatch=Dispatch.EXTERNAL)
    record = await container.ingestion().submit(spec)
    processes = [task(container, record.id, i, 2) for i in range(2)]
    outputs = [await asyncio.to_thread(p.communicate, timeout=90) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert "staged partitions [0, 2, 4]" in outputs[0][0] and "staged partitions [1, 3]" in outputs[1][0]
    async with asyncio.timeout(60):
        async for event in container.events().subscribe(f"job:{record.id}"):
            if event.is_terminal:
                break
    assert event.type == "completed", event.data
    assert (await container.warehouse().describe("tasks")).row_count == 5000
