"""Fires missed while no worker ran, however long ago, run once when the workers are back (the latest of
them), and the record of a schedule's latest fire keeps that fire from running twice: after its job record
expired, on a worker whose clock lags, or after its submission kept failing past the retry window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.cron.calendar import CroniterCalendar
from domain.services.ingestion_schedules import IngestionScheduleService
from domain.services.schedule_fires import RETRY_FOR
from domain.services.schedules import Schedule
from domain.types.lifecycle import parse_iso
from tests.fakes.clock import FakeClock
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions
from tests.unit.test_schedule_fires import clock, ingest, landing, store  # noqa: F401  (fixtures)

pytestmark = pytest.mark.unit
MONDAY_3AM = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


async def weekly(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    world.clock.current = MONDAY_3AM - timedelta(days=2)
    await world.schedules.set(Schedule("people-model"))  # Mondays 03:00 UTC


def retrain_tasks(world: World) -> int:
    return len([t for t in world.queue.tasks if t.name == "retrain"])


async def test_a_weekly_retrain_due_during_a_three_hour_outage_runs_once_when_the_workers_are_back(
        world: World) -> None:
    await weekly(world)
    world.clock.current = MONDAY_3AM + timedelta(hours=3, seconds=5)
    assert await world.schedules.tick() == ["retrain_people-model_20261130T0300Z"]
    world.clock.current += timedelta(minutes=1)
    assert await world.schedules.tick() == ["retrain_people-model_20261130T0300Z"]  # the same job, not a new one
    assert retrain_tasks(world) == 1
    last = await world.schedules.last_fire("people-model")
    assert last == {"fire_time": "2026-11-30T03:00:00Z", "job_id": "retrain_people-model_20261130T0300Z",
                    "warning": None}


async def test_a_fire_whose_job_record_expired_does_not_run_again(world: World) -> None:
    await weekly(world)
    world.clock.current = MONDAY_3AM + timedelta(seconds=5)
    await world.schedules.tick()
    world.jobs._records.clear()  # the job store's retention ran out (MLPLANE_JOB_RETENTION_DAYS)
    world.clock.current = MONDAY_3AM + timedelta(days=2)
    assert await world.schedules.tick() == ["retrain_people-model_20261130T0300Z"]
    assert retrain_tasks(world) == 1
    world.clock.current = MONDAY_3AM + timedelta(days=7, seconds=5)
    assert await world.schedules.tick() == ["retrain_people-model_20261207T0300Z"]


async def test_a_retrain_worker_whose_clock_lags_runs_no_older_fire(world: World) -> None:
    await weekly(world)
    await world.schedules.set(Schedule("people-model", cron="* * * * *"))
    world.clock.current = MONDAY_3AM + timedelta(minutes=1)
    await world.schedules.tick()
    world.clock.current = MONDAY_3AM + timedelta(seconds=59)  # another worker, a second behind
    assert await world.schedules.tick() == []
    assert retrain_tasks(world) == 1


async def failing_retrain_at(world: World, first_try: datetime) -> None:
    """The weekly retrain of an alias that does not exist yet, first tried at `first_try`: it fails, recorded."""
    await weekly(world)
    await world.schedules.set(Schedule("people-model", retrain={"alias": "staging"}))  # no such alias yet
    world.clock.current = first_try
    assert await world.schedules.tick() == []
    last = await world.schedules.last_fire("people-model")
    assert last is not None and last["job_id"] is None and "'staging'" in last["warning"]


@pytest.mark.parametrize("back_after", [timedelta(seconds=5), timedelta(hours=3)])
async def test_a_retrain_that_cannot_be_requested_is_retried_for_ten_minutes_from_its_first_failure(
        world: World, back_after: timedelta) -> None:
    """Also a fire hours old when the workers come back: its retries run from its first try, not its time."""
    first_try = MONDAY_3AM + back_after
    await failing_retrain_at(world, first_try)
    world.clock.current = first_try + timedelta(minutes=5)
    assert await world.schedules.tick() == []  # still failing: the record keeps when it first failed
    assert parse_iso((await world.schedules.last_fire("people-model") or {})["first_failed_at"]) == first_try
    await world.aliases.move("people-model", "staging", 1, reason="set up", by="a")
    world.clock.current = first_try + RETRY_FOR - timedelta(seconds=1)
    assert await world.schedules.tick() == ["retrain_people-model_20261130T0300Z"]


async def test_a_fire_still_failing_ten_minutes_after_its_first_try_is_left_for_the_next_fire(world: World) -> None:
    first_try = MONDAY_3AM + timedelta(hours=3)
    await failing_retrain_at(world, first_try)
    await world.aliases.move("people-model", "staging", 1, reason="set up", by="a")
    world.clock.current = first_try + RETRY_FOR + timedelta(seconds=1)
    assert await world.schedules.tick() == []  # it could run now, but its retries are over
    world.clock.current = MONDAY_3AM + timedelta(days=7, seconds=5)
    assert await world.schedules.tick() == ["retrain_people-model_20261207T0300Z"]


async def test_a_daily_ingestion_missed_for_hours_runs_once_and_a_failing_fire_stops_retrying(
        ingest: IngestionScheduleService, clock: FakeClock) -> None:  # noqa: F811
    clock.current = MONDAY_3AM - timedelta(days=1)
    await ingest.set(landing("0 3 * * *"))
    clock.current = MONDAY_3AM + timedelta(hours=5)
    assert await ingest.tick() == ["ing_every-min_20261130T0300Z"]
    assert await ingest.tick() == ["ing_every-min_20261130T0300Z"]
    late = landing("0 4 * * *")
    await ingest.set(replace(late, ingestion={**late.ingestion, "sources": ["landing/none-*.csv"]}))
    clock.current = MONDAY_3AM + timedelta(days=1, hours=1, seconds=5)  # 04:00 next day: no file matches
    assert await ingest.tick() == []
    assert (await ingest.last_run("every-min") or {})["warning"]
    clock.current += RETRY_FOR
    assert await ingest.tick() == []
    assert (await ingest.last_run("every-min") or {})["fire_time"] == "2026-12-01T04:00:00Z"


@pytest.mark.parametrize(("cron", "at", "expected"), [
    ("0 3 * * 1", MONDAY_3AM, MONDAY_3AM),  # a fire exactly at `at` counts
    ("0 3 * * 1", MONDAY_3AM - timedelta(seconds=1), MONDAY_3AM - timedelta(days=7)),
    # 02:30 does not exist in Paris on 2026-03-29: that day it fires at 03:00 CEST, as next_times says too.
    ("30 2 * * *", datetime(2026, 3, 29, 1, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ("30 2 * * *", datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 28, 1, 30, tzinfo=UTC)),
    ("0 0 30 2 *", MONDAY_3AM, None),  # February 30th: never
])
def test_the_previous_fire_time_of_a_cron(cron: str, at: datetime, expected: datetime | None) -> None:
    timezone = "Europe/Paris" if cron.startswith("30 2") else "UTC"
    calendar = CroniterCalendar()
    assert calendar.previous_time(cron, timezone, at) == expected
    if expected is not None:  # the fire the tick runs is one next_runs announced
        assert calendar.next_times(cron, timezone, expected - timedelta(seconds=1), 1) == [expected]
