"""Ingestion services over fakes: submit enqueues the plan, the plan the partitions, one commit loads once."""

from __future__ import annotations

import json

import pytest

from domain.services.ingestion import COMMIT_QUEUE, COMMIT_TASK, INGESTION_QUEUE, PLAN_TASK, STAGE_TASK
from domain.services.ingestion_run import staging_key
from domain.types.errors import InvalidSpec
from domain.types.ingestion import Cleaning, Dedupe, IngestionSpec, WriteMode
from domain.types.jobs import JobState
from tests.unit.conftest import Ingest

pytestmark = pytest.mark.unit
CSV = "id,name,score\n" + "".join(f"{i % 90},n{i % 90},{'' if i % 25 == 0 else i % 90}\n" for i in range(100))


def clean_spec(**extra) -> IngestionSpec:
    return IngestionSpec(("rows.csv",), "people", partitions=3,
                         cleaning=Cleaning(Dedupe.EXACT, drop_nulls=("score",)), **extra)


@pytest.fixture(autouse=True)
def rows_csv(ingest: Ingest) -> None:
    ingest.files.add_csv("rows.csv", CSV)


async def test_submit_records_the_job_and_enqueues_only_the_plan_without_scanning_the_csv(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec())
    assert record.kind == "ingestion" and record.state is JobState.QUEUED and "plan" not in record.spec
    assert [(t.name, t.job_id, t.queue) for t in ingest.queue.tasks] == [(PLAN_TASK, f"{record.id}:plan",
                                                                          INGESTION_QUEUE)]
    assert ingest.files.layout_calls == []  # the 202 never waits for a whole-file scan
    [queued] = await ingest.events.read(f"job:{record.id}")
    assert queued.type == "queued" and "partitions" not in queued.data
    assert queued.data == {"table": "people", "mode": "append", "sources": 1, "bytes_total": len(CSV)}


async def test_the_plan_task_enqueues_one_task_per_partition_and_announces_the_count(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec())
    await ingest.plan_all()
    assert [(t.job_id, t.queue) for t in ingest.tasks(STAGE_TASK)] == [
        (f"{record.id}:p{n}", INGESTION_QUEUE) for n in range(3)]
    assert ingest.files.layout_calls == ["rows.csv"]
    planned = (await ingest.events.read(f"job:{record.id}"))[-1]
    assert planned.type == "progress" and planned.data["stage"] == "planned" and planned.data["partitions"] == 3
    assert len((await ingest.jobs.get(record.id)).spec["plan"]["partitions"]) == 3


async def test_the_last_partition_enqueues_one_commit_that_loads_the_clean_rows(ingest: Ingest) -> None:
    record = await ingest.service.submit(clean_spec())
    await ingest.run_all()
    commits = ingest.tasks(COMMIT_TASK)
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
    await ingest.plan_all()
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
    await ingest.plan_all()
    await ingest.jobs.update(record.id, {"cancel_requested": True})  # what DELETE does to a started job
    await ingest.run_all()
    assert (await ingest.jobs.get(record.id)).state is JobState.CANCELLED
    assert "people" not in ingest.warehouse.tables and ingest.files.stage_calls == []


async def test_tasks_delivered_after_the_record_expired_end_quietly(ingest: Ingest) -> None:
    """A delivery later than the job retention finds no record: nothing to stage or commit, no crash."""
    await ingest.stager.run_partition("gone", 0)
    await ingest.committer.commit("gone")
    assert ingest.files.stage_calls == [] and ingest.queue.tasks == []


async def test_partitions_staged_with_different_shard_counts_fail_the_commit_naming_why(ingest: Ingest) -> None:
    """A worker of an older release writes one file where the plan asks for shards: refuse, load nothing."""
    record = await ingest.service.submit(clean_spec())
    await ingest.plan_all()
    for task in ingest.tasks(STAGE_TASK):
        await ingest.stager.run_partition(record.id, task.payload["partition"])
    key = staging_key(record.id, "part-0.json")
    report = json.loads(await ingest.artifacts.get(key))
    await ingest.artifacts.put(key, json.dumps({**report, "staged_uris": report["staged_uris"] * 2}).encode())
    await ingest.committer.commit(record.id)
    failed = await ingest.jobs.get(record.id)
    assert failed.state is JobState.FAILED and "different numbers of shard files [1, 2]" in (failed.error or "")
    assert "people" not in ingest.warehouse.tables
