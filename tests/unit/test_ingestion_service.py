"""Ingestion services over fakes: submit enqueues partitions, partitions stage, one commit loads once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.services.ingestion import COMMIT_QUEUE, COMMIT_TASK, INGESTION_QUEUE, STAGE_TASK, IngestionService
from domain.services.ingestion_commit import IngestionCommitter
from domain.services.ingestion_run import PartitionStager
from domain.services.job_lifecycle import JobLifecycle
from domain.types.errors import InvalidSpec
from domain.types.ingestion import Cleaning, Dedupe, IngestionSpec, WriteMode
from domain.types.jobs import JobState
from tests.fakes.artifact_store import InMemoryArtifactStore
from tests.fakes.bulk_files import InMemoryBulkFiles
from tests.fakes.clock import FakeClock, SequentialIds
from tests.fakes.event_log import InMemoryEventLog
from tests.fakes.job_store import InMemoryJobStore
from tests.fakes.task_queue import InMemoryTaskQueue
from tests.fakes.warehouse import InMemoryWarehouse

pytestmark = pytest.mark.unit
CSV = "id,name,score\n" + "".join(f"{i % 90},n{i % 90},{'' if i % 25 == 0 else i % 90}\n" for i in range(100))


@dataclass
class Ingest:
    files: InMemoryBulkFiles
    warehouse: InMemoryWarehouse
    jobs: InMemoryJobStore
    events: InMemoryEventLog
    queue: InMemoryTaskQueue
    service: IngestionService
    stager: PartitionStager
    committer: IngestionCommitter

    async def run_all(self) -> None:
        """What the workers do: every queued partition, then the commit."""
        for task in [t for t in self.queue.tasks if t.name == STAGE_TASK]:
            await self.stager.run_partition(task.payload["ingestion_id"], task.payload["partition"])
        for task in [t for t in self.queue.tasks if t.name == COMMIT_TASK]:
            await self.committer.commit(task.payload["ingestion_id"])

    async def runner_cancel(self, job_id: str) -> None:
        """What DELETE /v1/training-jobs/{id} does to a running job: ask it to stop."""
        await self.jobs.update(job_id, {"cancel_requested": True})

    async def types(self, job_id: str) -> list[str]:
        return [e.type for e in await self.events.read(f"job:{job_id}")]


@pytest.fixture
def ingest() -> Ingest:
    files, jobs, events, queue, clock = (InMemoryBulkFiles(), InMemoryJobStore(), InMemoryEventLog(),
                                         InMemoryTaskQueue(), FakeClock())
    warehouse, artifacts = InMemoryWarehouse(files.staged), InMemoryArtifactStore()
    files.add_csv("rows.csv", CSV)
    service = IngestionService(files=files, jobs=jobs, events=events, queue=queue, clock=clock, ids=SequentialIds())
    lifecycle = JobLifecycle(jobs, events, clock)
    stager = PartitionStager(files=files, artifacts=artifacts, jobs=jobs, queue=queue, clock=clock, lifecycle=lifecycle)
    committer = IngestionCommitter(artifacts=artifacts, warehouse=warehouse, lifecycle=lifecycle)
    return Ingest(files, warehouse, jobs, events, queue, service, stager, committer)


def clean_spec(**extra) -> IngestionSpec:
    return IngestionSpec(("rows.csv",), "people", partitions=3,
                         cleaning=Cleaning(Dedupe.EXACT, drop_nulls=("score",)), **extra)


async def test_submit_records_the_job_and_enqueues_one_task_per_partition(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec())
    assert record.kind == "ingestion" and record.state is JobState.QUEUED
    assert [(t.job_id, t.queue) for t in ingest.queue.tasks] == [
        (f"{record.id}:p{n}", INGESTION_QUEUE) for n in range(3)]
    assert await ingest.types(record.id) == ["queued"]


async def test_the_last_partition_enqueues_one_commit_that_loads_the_clean_rows(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec())
    await ingest.run_all()
    commits = [t for t in ingest.queue.tasks if t.name == COMMIT_TASK]
    assert [(t.job_id, t.queue) for t in commits] == [(f"{record.id}:commit", COMMIT_QUEUE)]
    table = ingest.warehouse.tables["people"]
    assert table.num_rows == 87  # rows 0..89, less 4 with a null score (i % 25 == 0), plus "0,n0,0"
    done = await ingest.jobs.get(record.id)
    assert done.state is JobState.COMPLETED
    assert done.result["rows_read"] == 100 and done.result["null_rows_dropped"] == 4
    assert done.result["rows_loaded"] == 87 and done.result["duplicates_dropped"] == 9
    types = await ingest.types(record.id)
    assert types[0] == "queued" and types[-1] == "completed" and "progress" in types


async def test_a_redone_partition_and_a_repeated_commit_leave_each_row_once(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec(mode=WriteMode.APPEND))
    await ingest.stager.run_partition(record.id, 1)  # a worker died after staging: the partition runs again
    await ingest.run_all()
    await ingest.committer.commit(record.id)  # a redelivered commit
    assert ingest.warehouse.tables["people"].num_rows == 87
    assert ingest.files.stage_calls.count(1) == 2


async def test_too_many_rejects_fail_before_the_commit_and_leave_the_table_alone(ingest: Ingest) -> None:
    ingest.files.rejected_per_partition = 10
    record = await ingest.service.submit(clean_spec(max_reject_ratio=0.05))
    await ingest.run_all()
    done = await ingest.jobs.get(record.id)
    assert done.state is JobState.FAILED and "30 of 130 rows were rejected" in (done.error or "")
    assert "people" not in ingest.warehouse.tables


async def test_bad_input_is_refused_at_submit_and_records_nothing(ingest: Ingest) -> None:
    with pytest.raises(InvalidSpec, match=r"missing\.csv"):
        await ingest.service.submit(IngestionSpec(("missing.csv",), "people"))
    assert ingest.queue.tasks == []


async def test_a_cancelled_ingestion_ends_cancelled_without_loading(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec())
    await ingest.runner_cancel(record.id)
    await ingest.run_all()
    assert (await ingest.jobs.get(record.id)).state is JobState.CANCELLED
    assert "people" not in ingest.warehouse.tables and ingest.files.stage_calls == []
