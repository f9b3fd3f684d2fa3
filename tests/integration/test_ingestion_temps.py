"""Ending an ingestion (completed, failed or cancelled) removes the temp files its staging area holds from writers
that have exited (a stager killed mid-file whose partition is never staged again), and keeps a running writer's.

Real components: Redis job store, filesystem artifact store, pyarrow staging (in threads), DuckDB. No worker runs:
the test runs each queued step itself, so the temps are in place before the ingestion ends."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.pyarrow_files.temp_files import temp_beside
from domain.types.ingestion import IngestionSpec
from domain.types.jobs import JobState
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


def exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(10)  # reaped: no zombie keeps the pid alive
    return process.pid


def temp_of(pid: int, target: Path) -> Path:
    """The temp that process `pid` of this host writes for `target` (this process's name, another pid)."""
    mine = temp_beside(target)
    return mine.with_name(mine.name.replace(f".tmp-{os.getpid()}@", f".tmp-{pid}@", 1))


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(
        data_dir=tmp_path / "data",
        ingest_local_roots=(tmp_path,),
        redis_url=redis_url,
        env=f"t{uuid.uuid4().hex[:8]}",
        ingestion_processes=0,
        seed_demo=False,
    )
    async with running_container(settings, queues=()) as container:
        yield container


@pytest.mark.parametrize("ending", [JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED])
async def test_ending_an_ingestion_removes_the_temps_of_exited_writers_and_keeps_a_running_ones(
    ending: JobState, container: Container, tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(200)))
    record = await container.ingestion().submit(IngestionSpec((str(source),), "people", partitions=2))
    stager = container.partition_stager()
    await container.ingestion_planner().run(record.id)
    await stager.run_partition(record.id, 0)
    if ending is JobState.COMPLETED:
        await stager.run_partition(record.id, 1)
    folder = tmp_path / "data" / "artifacts" / "staging" / "ingestions" / record.id
    dead = exited_pid()
    # A run of partition 0 killed after another run published it, and one of partition 1 never redone.
    abandoned = [temp_of(dead, folder / name) for name in ("part-0.parquet", "part-1.parquet", "rejects-1.csv")]
    running = temp_of(os.getpid(), folder / "part-1.parquet")  # a duplicate delivery still staging it
    for temp in (*abandoned, running):
        temp.write_bytes(b"half-written")

    if ending is JobState.COMPLETED:
        await container.ingestion_committer().commit(record.id)
    elif ending is JobState.FAILED:  # the queue gave up on partition 1 (its workers kept dying)
        await stager.fail(record.id, "partition 1: gave up after 3 attempts (worker lost)")
    else:
        await container.training().cancel(record.id)  # the API's cancel, for every kind of job
        await stager.run_partition(record.id, 1)  # sees the request and ends the ingestion

    assert (await container.jobs().get(record.id)).state is ending
    assert [t.name for t in abandoned if t.exists()] == []
    assert running.exists()
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([running.name, "part-0.json", *(["part-1.json"] if ending is JobState.COMPLETED else [])])


async def test_listing_removes_exited_writers_temps_under_the_prefix_only(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path / "store")
    await store.put("a/b/part-0.parquet", b"staged")
    folder, other = tmp_path / "store" / "a" / "b", tmp_path / "store" / "a" / "c"
    dead = exited_pid()
    abandoned = [temp_of(dead, folder / "part-1.parquet"), temp_of(dead, folder / "deeper" / "x.json")]
    kept = [
        temp_of(os.getpid(), folder / "part-2.parquet"),  # a running writer's
        folder / f".tmp-{dead}@elsewhere-part-3.parquet",  # another host's pids mean nothing here
        folder / ".tmp-k2j3h4l5",  # no writer named: it cannot be judged
        temp_of(dead, other / "part-1.parquet"),  # outside the listed prefix
    ]
    for temp in (*abandoned, *kept):
        temp.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(b"half-written")
    assert await store.list("a/b/") == ["a/b/part-0.parquet"]
    assert [t for t in abandoned if t.exists()] == [] and all(t.exists() for t in kept)
