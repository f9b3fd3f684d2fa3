"""The planning task over fakes: plans once however often it is delivered, and ends the job when it must."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain.services.ingestion import PLAN_TASK, STAGE_TASK
from domain.types.errors import TransientError
from domain.types.ingestion import Dispatch, IngestionSpec
from domain.types.jobs import JobState
from domain.types.partitions import CsvLayout
from tests.unit.conftest import Ingest

pytestmark = pytest.mark.unit
CSV = "id,name\n" + "".join(f"{i},n{i}\n" for i in range(300))


@pytest.fixture(autouse=True)
def rows_csv(ingest: Ingest) -> None:
    ingest.files.add_csv("rows.csv", CSV)


def spec(**extra) -> IngestionSpec:
    return IngestionSpec(("rows.csv",), "people", partitions=3, **extra)


async def planned_events(ingest: Ingest, job_id: str) -> list[dict]:
    return [dict(e.data) for e in await ingest.events.read(f"job:{job_id}") if e.data.get("stage") == "planned"]


async def test_a_plan_task_delivered_twice_plans_once_and_enqueues_each_partition_once(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec())
    await ingest.planner.run(record.id)
    stored = (await ingest.jobs.get(record.id)).spec["plan"]
    ingest.files.add_csv("rows.csv", CSV + "300,n300\n")  # the file changes, then the task is redelivered
    await ingest.planner.run(record.id)
    assert ingest.files.layout_calls == ["rows.csv"] and (await ingest.jobs.get(record.id)).spec["plan"] == stored
    assert [t.job_id for t in ingest.tasks(STAGE_TASK)] == [f"{record.id}:p{n}" for n in range(3)]
    assert [e["partitions"] for e in await planned_events(ingest, record.id)] == [3]


async def test_a_plan_stored_before_the_queue_failed_is_reused_by_the_retry(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec())
    ingest.queue.unreachable = True
    with pytest.raises(TransientError):  # the queue retries the task
        await ingest.planner.run(record.id)
    ingest.queue.unreachable = False
    await ingest.run_all()
    assert ingest.files.layout_calls == ["rows.csv"] and len(ingest.tasks(STAGE_TASK)) == 3
    assert (await ingest.jobs.get(record.id)).state is JobState.COMPLETED
    assert sorted(ingest.warehouse.tables["people"].column("id").to_pylist()) == list(range(300))


@pytest.mark.parametrize(("change", "cause"), [
    (lambda files: files.csv.pop("rows.csv"), "vanished before the ingestion was planned: rows.csv"),
    (lambda files: files.add_csv("rows.csv", CSV + "300,n300\n"), "rows.csv changed since the ingestion was submitted"),
], ids=["vanished", "changed"])
async def test_a_file_gone_or_changed_before_planning_fails_the_ingestion_naming_it(ingest: Ingest, change,
                                                                                      cause) -> None:
    record = await ingest.service.submit(spec())
    change(ingest.files)
    await ingest.run_all()
    done = await ingest.jobs.get(record.id)
    assert done.state is JobState.FAILED and cause in (done.error or "")
    last = (await ingest.events.read(f"job:{record.id}"))[-1]
    assert last.type == "failed" and cause in last.data["message"]
    assert ingest.tasks(STAGE_TASK) == [] and "people" not in ingest.warehouse.tables


async def test_a_cancel_requested_before_planning_ends_the_ingestion(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec())
    await ingest.jobs.update(record.id, {"cancel_requested": True})
    await ingest.run_all()
    assert (await ingest.jobs.get(record.id)).state is JobState.CANCELLED
    assert await ingest.types(record.id) == ["queued", "cancelled"]
    assert ingest.tasks(STAGE_TASK) == [] and ingest.files.layout_calls == []


async def test_a_queued_ingestion_cancelled_while_it_is_planned_keeps_no_plan(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec())
    scan = ingest.files.csv_layout

    async def cancelled_meanwhile(uri: str, targets: Sequence[int]) -> CsvLayout:
        # What DELETE /v1/training-jobs/{id} does to a queued job: end it at once.
        await ingest.jobs.transition(record.id, JobState.CANCELLED, frozenset({JobState.QUEUED}))
        return await scan(uri, targets)

    ingest.files.csv_layout = cancelled_meanwhile  # type: ignore[method-assign]
    await ingest.run_all()
    done = await ingest.jobs.get(record.id)
    assert done.state is JobState.CANCELLED and "plan" not in done.spec and ingest.tasks(STAGE_TASK) == []


async def test_a_transient_error_is_left_to_the_queue_whose_give_up_fails_with_the_cause(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec())

    async def unavailable(uri: str, targets: Sequence[int]) -> CsvLayout:
        raise TransientError(f"{uri}: storage unavailable")

    ingest.files.csv_layout = unavailable  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        await ingest.planner.run(record.id)
    assert (await ingest.jobs.get(record.id)).state is JobState.QUEUED
    await ingest.planner.fail(record.id, "gave up after 3 attempts: rows.csv: storage unavailable")
    done = await ingest.jobs.get(record.id)
    assert done.state is JobState.FAILED and "rows.csv: storage unavailable" in (done.error or "")


async def test_a_bug_while_planning_fails_the_ingestion_with_a_readable_cause(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec())

    async def broken(uri: str, targets: Sequence[int]) -> CsvLayout:
        raise ZeroDivisionError("division by zero")

    ingest.files.csv_layout = broken  # type: ignore[method-assign]
    await ingest.planner.run(record.id)
    assert "internal error: ZeroDivisionError" in ((await ingest.jobs.get(record.id)).error or "")


async def test_dispatch_external_is_planned_before_the_202_for_the_cloud_run_tasks(ingest: Ingest) -> None:
    record = await ingest.service.submit(spec(dispatch=Dispatch.EXTERNAL))
    assert len(record.spec["plan"]["partitions"]) == 3 and ingest.files.layout_calls == ["rows.csv"]
    assert ingest.tasks(PLAN_TASK) == [] and ingest.tasks(STAGE_TASK) == []
    assert [e["partitions"] for e in await planned_events(ingest, record.id)] == [3]
