"""Running training jobs: event order, idempotent re-runs, failures with readable causes, cancel."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from domain.types.errors import IntegrityError, TransientError
from domain.types.jobs import JobState
from domain.types.training import SourceSpec, Task, TrainingSpec
from tests.unit.conftest import World

pytestmark = pytest.mark.unit


def spec(table: str = "people", model: str = "people-model", task: Task = Task.CLASSIFICATION) -> TrainingSpec:
    return TrainingSpec(model, "majority", task, SourceSpec(table, ("x0", "x1"), "y"))


async def event_types(world: World, job_id: str) -> list[str]:
    return [e.type for e in await world.events.read(f"job:{job_id}")]


async def test_a_job_emits_every_stage_in_order_and_registers_version_1(world: World) -> None:
    job = await world.service.submit(spec())
    await world.runner.run(job.id)

    types = await event_types(world, job.id)
    assert types[:3] == ["queued", "started", "progress"]
    assert types.index("data_loaded") < types.index("evaluated") < types.index("artifact_stored")
    assert types[-1] == "completed" and types.count("completed") == 1
    record = await world.jobs.get(job.id)
    assert record.state is JobState.COMPLETED and dict(record.result) == {"model_name": "people-model", "version": 1}
    manifest = json.loads(world.artifacts.blobs["models/people-model/versions/1/manifest.json"])
    assert manifest["job_id"] == job.id and manifest["files"][0]["name"] == "model.json"
    assert manifest["data"]["rows_used"] == 200 and "accuracy" in manifest["metrics"]


async def test_cleaning_counts_duplicates_and_nulls(world: World) -> None:
    table = pa.table({"x0": [1.0, 1.0, None, 2.0, 3.0, 4.0, 5.0], "x1": [0.0] * 7, "y": [0, 0, 1, 1, 0, 1, 1]})
    await world.warehouse.append("dirty", table)
    job = await world.service.submit(spec("dirty"))
    await world.runner.run(job.id)
    (loaded,) = [e for e in await world.events.read(f"job:{job.id}") if e.type == "data_loaded"]
    assert (loaded.data["rows_read"], loaded.data["duplicates_dropped"], loaded.data["null_rows_dropped"],
            loaded.data["rows_used"]) == (7, 1, 1, 5)


async def test_a_rerun_of_a_finished_job_changes_nothing(world: World) -> None:
    job = await world.service.submit(spec())
    await world.runner.run(job.id)
    await world.runner.run(job.id)
    assert (await event_types(world, job.id)).count("completed") == 1
    assert world.backend.fits == 1


async def test_a_crash_after_upload_reuses_the_version_on_rerun(world: World) -> None:
    job = await world.service.submit(spec())
    original = world.jobs.transition

    async def crash_on_complete(job_id, to, allowed_from, changes=None):  # type: ignore[no-untyped-def]
        if to is JobState.COMPLETED:
            raise TransientError("redis went away")
        return await original(job_id, to, allowed_from, changes)

    world.jobs.transition = crash_on_complete  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        await world.runner.run(job.id)
    world.jobs.transition = original  # type: ignore[method-assign]
    await world.runner.run(job.id)

    assert [m.version for m in await world.registry.list_versions("people-model")] == [1]
    assert (await world.jobs.get(job.id)).result["version"] == 1


async def test_two_jobs_for_one_model_get_distinct_versions(world: World) -> None:
    first, second = await world.service.submit(spec()), await world.service.submit(spec())
    await world.runner.run(second.id)
    await world.runner.run(first.id)
    versions = {m.job_id: m.version for m in await world.registry.list_versions("people-model")}
    assert versions == {second.id: 1, first.id: 2}


async def test_data_that_is_empty_after_cleaning_fails_with_the_reason(world: World) -> None:
    await world.warehouse.append("nulls", pa.table({"x0": [None, None], "x1": [1.0, 2.0], "y": [0, 1]},
                                                   schema=pa.schema([("x0", pa.float64()), ("x1", pa.float64()),
                                                                     ("y", pa.int64())])))
    job = await world.service.submit(spec("nulls"))
    await world.runner.run(job.id)
    failed = (await world.events.read(f"job:{job.id}"))[-1]
    assert failed.type == "failed" and "only 0 rows left" in failed.data["message"]
    assert (await world.jobs.get(job.id)).state is JobState.FAILED


async def test_a_single_class_label_fails_classification(world: World) -> None:
    await world.warehouse.append("one_class", pa.table({"x0": [1.0, 2.0, 3.0, 4.0, 5.0], "x1": [0.0] * 5,
                                                        "y": [1] * 5}))
    job = await world.service.submit(spec("one_class"))
    await world.runner.run(job.id)
    assert "single class" in (await world.jobs.get(job.id)).error  # type: ignore[operator]


async def test_cancelling_a_queued_job_ends_it_and_the_worker_skips_it(world: World) -> None:
    job = await world.service.submit(spec())
    await world.service.cancel(job.id)
    await world.runner.run(job.id)
    assert await event_types(world, job.id) == ["queued", "cancelled"]
    assert world.backend.fits == 0


async def test_cancelling_a_running_job_stops_it_at_the_next_stage(world: World) -> None:
    job = await world.service.submit(spec())
    world.backend.on_fit = lambda: world.service.cancel(job.id)
    await world.runner.run(job.id)
    assert (await world.jobs.get(job.id)).state is JobState.CANCELLED
    assert (await event_types(world, job.id))[-1] == "cancelled"
    assert await world.registry.list_models() == []


async def test_a_bug_in_a_backend_still_ends_the_job_with_a_readable_cause(world: World) -> None:
    def explode() -> None:
        raise ZeroDivisionError("division by zero")

    world.backend.on_fit = explode
    job = await world.service.submit(spec())
    await world.runner.run(job.id)
    assert (await world.jobs.get(job.id)).error == "internal error: ZeroDivisionError: division by zero"


async def test_a_tampered_model_file_fails_the_checksum_on_load(world: World) -> None:
    job = await world.service.submit(spec())
    await world.runner.run(job.id)
    world.artifacts.blobs["models/people-model/versions/1/model.json"] = b'{"task": "classification", "value": 9}'
    with pytest.raises(IntegrityError, match="does not match the sha256"):
        await world.registry.load_files("people-model", 1)
