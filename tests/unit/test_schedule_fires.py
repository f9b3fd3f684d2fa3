"""Which fire a schedule's minute tick runs: never one from before the schedule (or its current cron)
existed, only the latest one after a gap, once however many ticks see it (ingestion and retrain)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters.cron.calendar import CroniterCalendar
from domain.services.ingestion import IngestionService
from domain.services.ingestion_schedules import RUNS_PREFIX, IngestionSchedule, IngestionScheduleService
from domain.services.schedules import Schedule
from domain.types.ingestion import IngestionSpec
from tests.fakes.artifact_store import InMemoryArtifactStore
from tests.fakes.bulk_files import InMemoryBulkFiles
from tests.fakes.clock import FakeClock, SequentialIds
from tests.fakes.event_log import InMemoryEventLog
from tests.fakes.job_store import InMemoryJobStore
from tests.fakes.task_queue import InMemoryTaskQueue
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
SAVED = datetime(2026, 11, 27, 9, 12, 37, tzinfo=UTC)  # the audit's every-minute schedule


def at(hour: int, minute: int, second: float = 0.15) -> datetime:
    return SAVED.replace(hour=hour, minute=minute, second=int(second), microsecond=int(second % 1 * 1e6))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SAVED)


@pytest.fixture
def store() -> InMemoryArtifactStore:
    return InMemoryArtifactStore()


@pytest.fixture
def ingest(clock: FakeClock, store: InMemoryArtifactStore) -> IngestionScheduleService:
    files = InMemoryBulkFiles()
    files.add_csv("landing/c1.csv", "id,name\n1,a\n2,b\n")
    ingestions = IngestionService(files=files, jobs=InMemoryJobStore(), events=InMemoryEventLog(),
                                  queue=InMemoryTaskQueue(), clock=clock, ids=SequentialIds())
    return IngestionScheduleService(store, CroniterCalendar(), clock, ingestions, files)


def landing(cron: str, **extra: object) -> IngestionSchedule:
    spec = IngestionSpec(("landing/*.csv",), "tsched")
    return IngestionSchedule("every-min", cron, spec.to_dict(), **extra)  # type: ignore[arg-type]


async def test_an_every_minute_schedule_runs_each_minute_once_from_the_one_after_it_was_saved(
        ingest: IngestionScheduleService, clock: FakeClock) -> None:
    await ingest.set(landing("* * * * *"))
    clock.current = at(9, 13)
    assert await ingest.tick() == ["ing_every-min_20261127T0913Z"]  # not 09:04, 09:05, 09:06
    clock.current = at(9, 13, 40)
    assert await ingest.tick() == ["ing_every-min_20261127T0913Z"]  # a second worker: the same fire
    clock.current = at(9, 14)
    assert await ingest.tick() == ["ing_every-min_20261127T0914Z"]
    last = await ingest.last_run("every-min")
    assert last is not None and last["fire_time"] == "2026-11-27T09:14:00Z"
    assert ingest.next_runs(await ingest.get("every-min"), 2) == ["2026-11-27T09:15:00Z", "2026-11-27T09:16:00Z"]


async def test_a_fire_from_before_the_schedule_existed_never_runs(
        ingest: IngestionScheduleService, clock: FakeClock) -> None:
    clock.current = at(9, 14, 16)
    await ingest.set(landing("12 * * * *"))
    for minute in (15, 16, 21):
        clock.current = at(9, minute)
        assert await ingest.tick() == []
    clock.current = at(10, 12)
    assert await ingest.tick() == ["ing_every-min_20261127T1012Z"]


async def test_fires_missed_while_no_worker_ran_run_once_the_latest(
        ingest: IngestionScheduleService, clock: FakeClock) -> None:
    await ingest.set(landing("*/5 * * * *"))
    clock.current = at(9, 15)
    assert await ingest.tick() == ["ing_every-min_20261127T0915Z"]
    clock.current = at(9, 27)  # down through 09:20 and 09:25: one catch-up run, the latest
    assert await ingest.tick() == ["ing_every-min_20261127T0925Z"]


async def test_a_new_cron_applies_from_its_change_and_other_edits_keep_a_due_fire(
        ingest: IngestionScheduleService, clock: FakeClock) -> None:
    clock.current = at(9, 59, 30)
    first, _ = await ingest.set(landing("0 * * * *"))
    clock.current = at(10, 0, 20)
    kept, _ = await ingest.set(landing("0 * * * *", timezone="UTC"))  # re-saved, same cron: 10:00 still runs
    assert (kept.created_at, kept.active_since) == (first.created_at, first.active_since)
    changed, _ = await ingest.set(landing("0,30 * * * *"))  # a new cron: 10:00 was before it
    assert changed.created_at == first.created_at and changed.active_since == "2026-11-27T10:00:20Z"
    clock.current = at(10, 1)
    assert await ingest.tick() == []


async def test_a_worker_whose_clock_lags_runs_no_older_fire(
        ingest: IngestionScheduleService, clock: FakeClock) -> None:
    await ingest.set(landing("* * * * *"))
    clock.current = at(9, 14)
    await ingest.tick()
    clock.current = at(9, 13, 59)
    assert await ingest.tick() == []
    assert (await ingest.last_run("every-min") or {})["fire_time"] == "2026-11-27T09:14:00Z"


async def test_a_schedule_stored_before_created_at_was_recorded_still_loads_and_fires(
        ingest: IngestionScheduleService, clock: FakeClock, store: InMemoryArtifactStore) -> None:
    legacy = {"name": "every-min", "cron": "*/5 * * * *", "timezone": "UTC", "enabled": True,
              "ingestion": landing("*/5 * * * *").ingestion}
    await store.put("schedules/ingestions/every-min.json", json.dumps(legacy).encode())
    last = {"fire_time": "2026-11-27T09:05:00Z", "ingestion_id": "ing_every-min_20261127T0905Z", "warning": None}
    await store.put(RUNS_PREFIX + "every-min.json", json.dumps(last).encode())
    clock.current = at(9, 13)
    assert await ingest.tick() == ["ing_every-min_20261127T0910Z"]  # one fire, not 09:05 again
    assert (await ingest.get("every-min")).created_at is None


async def test_retrain_schedules_follow_the_same_rule(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    world.clock.current = at(9, 14, 16)
    await world.schedules.set(Schedule("people-model", cron="12 * * * *"))
    world.clock.current = at(9, 15)
    assert await world.schedules.tick() == []  # the 09:12 fire came before the schedule
    await world.schedules.set(Schedule("people-model", cron="*/5 * * * *", timezone="Europe/Paris"))
    world.clock.current = at(9, 32)  # 09:20, 09:25 and 09:30 fell due while no worker ticked
    assert await world.schedules.tick() == await world.schedules.tick() == ["retrain_people-model_20261127T0930Z"]
    assert len([t for t in world.queue.tasks if t.name == "retrain"]) == 1


async def test_one_broken_retrain_schedule_does_not_stop_the_others(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "production", 1, reason="launch", by="a")
    world.clock.current = at(9, 0)
    await world.schedules.set(Schedule("people-model", cron="*/5 * * * *"))
    six_fields = {"model": "old-model", "cron": "*/5 * * * * *", "timezone": "UTC", "enabled": True}
    await world.artifacts.put("models/old-model/schedule.json", json.dumps(six_fields).encode())
    world.clock.current = at(9, 5) + timedelta(seconds=1)
    assert await world.schedules.tick() == ["retrain_people-model_20261127T0905Z"]
