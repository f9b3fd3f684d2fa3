"""Retraining promotes a challenger only when it is better (within the tolerance); decisions are recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from domain.services.retrain_policy import RetrainRequest
from domain.services.schedules import Schedule
from domain.types.errors import InvalidSpec, TransientError
from domain.types.jobs import JobState
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit


async def retrain(world: World, **options: object) -> dict:
    job = await world.retrains.request(RetrainRequest("people-model", **options))  # type: ignore[arg-type]
    await world.retrain_runner.run(job.id)
    record = await world.jobs.get(job.id)
    assert record.state is JobState.COMPLETED, record.error
    return dict(record.result)


def add_rows(world: World, rows: int, label: int) -> pa.Table:
    x = np.random.default_rng(5).normal(size=(rows, 2))
    return pa.table({"name": [f"n{i}" for i in range(rows)], "x0": x[:, 0], "x1": x[:, 1],
                     "y": np.full(rows, label, dtype="int64")})


async def test_an_equal_challenger_is_registered_but_not_promoted_without_a_tolerance(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    result = await retrain(world)  # the same data, the same model: the same score
    assert result["decision"] == "kept champion" and result["challenger"] == result["champion"]
    assert await world.aliases.current("people-model", "production") == 1
    decision = (await world.registry.get_version("people-model", 2)).extra["retrain"]
    assert decision["promote"] is False and "not better than" in decision["summary"]


async def test_a_challenger_within_the_tolerance_is_promoted_and_recorded(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    result = await retrain(world, tolerance=0.01)
    assert result["decision"] == "promoted" and result["version"] == 2
    assert await world.aliases.current("people-model", "production") == 2
    manifest = await world.registry.get_version("people-model", 2)
    assert manifest.extra["retrain"]["promote"] is True and manifest.extra["retrain"]["champion_version"] == 1
    last = (await world.aliases.history("people-model", "production"))[-1]
    assert last.by.startswith("retrain:") and "accuracy" in last.reason


async def test_a_worse_challenger_is_registered_but_not_promoted(world: World) -> None:
    await world.warehouse.append("people", add_rows(world, 100, label=1))  # a clear majority class
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    world.backend.predict_minority = True  # the challenger will predict the rarer class
    result = await retrain(world, metric="accuracy", tolerance=0.01)
    decision = (await world.registry.get_version("people-model", result["version"])).extra["retrain"]
    assert decision["challenger"] < decision["champion"] - 0.01 and decision["promote"] is False
    assert result["decision"] == "kept champion" and result["version"] == 2
    assert await world.aliases.current("people-model", "production") == 1


async def test_too_few_new_rows_skips_without_failing(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    result = await retrain(world, min_new_rows=10)
    assert result["decision"] == "skipped" and "0 new rows" in result["reason"]
    assert [m.version for m in await world.registry.list_versions("people-model")] == [1]


async def test_a_rerun_after_a_crash_reuses_the_challenger_and_promotes_once(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    job = await world.retrains.request(RetrainRequest("people-model", tolerance=0.01))
    real_move = world.aliases.move

    async def crash_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        world.aliases.move = real_move  # type: ignore[method-assign]
        raise TransientError("worker lost Redis right after storing the challenger")

    world.aliases.move = crash_once  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        await world.retrain_runner.run(job.id)
    await world.retrain_runner.run(job.id)  # the queue delivers the job again
    assert [m.version for m in await world.registry.list_versions("people-model")] == [1, 2]
    assert [m.to_version for m in await world.aliases.history("people-model", "production")] == [1, 2]
    assert world.backend.fits == 2  # the first training and one challenger, not two


async def test_a_retrain_without_the_alias_is_a_clear_error(world: World) -> None:
    await trained_versions(world, 1)
    with pytest.raises(InvalidSpec, match="no alias 'production'"):
        await world.retrains.request(RetrainRequest("people-model"))


async def test_a_schedule_tick_requests_one_job_for_the_latest_due_fire_time(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    await world.schedules.set(Schedule("people-model", cron="*/5 * * * *", timezone="Europe/Paris"))
    world.clock.current = datetime(2026, 3, 2, 10, 6, tzinfo=UTC)
    first = await world.schedules.tick()
    again = await world.schedules.tick()  # a second worker seeing the same tick
    assert first == again == ["retrain_people-model_20260302T1005Z"]  # 10:00 too was missed: one run, not two
    assert len([t for t in world.queue.tasks if t.name == "retrain"]) == 1
    (schedule,) = await world.schedules.all()
    assert world.schedules.next_runs(schedule)[0] == "2026-03-02T10:10:00Z"
