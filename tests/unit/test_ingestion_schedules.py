"""Scheduled ingestion over fakes and a fixed clock: one ingestion per fire, however often it is ticked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.cron.calendar import CroniterCalendar
from domain.services.ingestion import PLAN_TASK, STAGE_TASK, IngestionService
from domain.services.ingestion_plan import check_inputs
from domain.services.ingestion_planning import IngestionPlanner
from domain.services.ingestion_schedules import IngestionSchedule, IngestionScheduleService, fire_id
from domain.services.job_lifecycle import JobLifecycle
from domain.types.errors import InvalidIdentifier, InvalidSpec, NotFound
from domain.types.ingestion import IngestionSpec
from domain.types.jobs import JobRecord, JobState
from tests.fakes.artifact_store import InMemoryArtifactStore
from tests.fakes.bulk_files import InMemoryBulkFiles
from tests.fakes.clock import FakeClock, SequentialIds
from tests.fakes.event_log import InMemoryEventLog
from tests.fakes.job_store import InMemoryJobStore
from tests.fakes.task_queue import InMemoryTaskQueue

pytestmark = pytest.mark.unit
CSV = "id,name\n" + "".join(f"{i},n{i}\n" for i in range(40))
HOURLY = "0 * * * *"
FIRE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass
class Scheduled:
    files: InMemoryBulkFiles
    jobs: InMemoryJobStore
    queue: InMemoryTaskQueue
    clock: FakeClock
    schedules: IngestionScheduleService
    planner: IngestionPlanner

    def stage_tasks(self) -> list[str]:
        return [t.payload["ingestion_id"] for t in self.queue.tasks if t.name == STAGE_TASK]

    async def plan(self) -> list[str]:
        """What an ingestion worker does with the queued plan tasks; returns their ingestion ids."""
        planned = [t.payload["ingestion_id"] for t in self.queue.tasks if t.name == PLAN_TASK]
        for ingestion_id in planned:
            await self.planner.run(ingestion_id)
        return planned


@pytest.fixture
def world() -> Scheduled:
    files, jobs, queue = InMemoryBulkFiles(), InMemoryJobStore(), InMemoryTaskQueue()
    clock = FakeClock(FIRE + timedelta(minutes=1))  # one minute after a fire: it is due
    files.add_csv("landing/day1.csv", CSV)
    events = InMemoryEventLog()
    ingestions = IngestionService(files=files, jobs=jobs, events=events, queue=queue, clock=clock, ids=SequentialIds())
    schedules = IngestionScheduleService(InMemoryArtifactStore(), CroniterCalendar(), clock, ingestions, files)
    planner = IngestionPlanner(files=files, jobs=jobs, queue=queue, lifecycle=JobLifecycle(jobs, events, clock))
    return Scheduled(files, jobs, queue, clock, schedules, planner)


def hourly(name: str = "landing", sources: tuple[str, ...] = ("landing/*.csv",), **extra: object) -> IngestionSchedule:
    spec = IngestionSpec(sources, "events", partitions=2)
    return IngestionSchedule(name, HOURLY, spec.to_dict(), **extra)  # type: ignore[arg-type]


async def saved_before_the_fire(world: Scheduled, schedule: IngestionSchedule) -> tuple[IngestionSchedule, list[str]]:
    """Saved a minute before FIRE (a schedule never runs a fire from before it was saved), the clock back after."""
    now, world.clock.current = world.clock.current, FIRE - timedelta(minutes=1)
    try:
        return await world.schedules.set(schedule)
    finally:
        world.clock.current = now


async def test_a_due_schedule_submits_exactly_one_ingestion_even_when_ticked_twice(world: Scheduled) -> None:
    await saved_before_the_fire(world, hourly())
    first = await world.schedules.tick()
    world.clock.current += timedelta(seconds=30)  # the next minute's tick still sees the same fire
    second = await world.schedules.tick()
    assert first == second == [fire_id("landing", FIRE)] == ["ing_landing_20260302T1000Z"]
    assert await world.plan() == first  # one plan task, enqueued once
    assert world.stage_tasks() == [first[0], first[0]]  # its two partitions, enqueued once
    record = await world.jobs.get(first[0])
    assert record.spec["sources"] == ["landing/*.csv"]  # the glob as given: expanded at each fire
    assert (await world.schedules.last_run("landing")) == {"fire_time": "2026-03-02T10:00:00Z",
                                                           "ingestion_id": first[0], "warning": None}


async def test_a_disabled_schedule_submits_nothing(world: Scheduled) -> None:
    await world.schedules.set(hourly(enabled=False))
    assert await world.schedules.tick() == []
    assert world.queue.tasks == [] and await world.schedules.last_run("landing") is None
    assert world.schedules.next_runs((await world.schedules.all())[0]) == []


async def test_a_schedule_is_not_due_before_its_fire_time(world: Scheduled) -> None:
    world.clock.current = FIRE + timedelta(minutes=30)  # the 10:00 fire is past the lookback window
    await world.schedules.set(hourly())
    assert await world.schedules.tick() == [] and world.queue.tasks == []


async def test_each_fire_expands_the_glob_again(world: Scheduled) -> None:
    await world.schedules.set(hourly())
    await world.schedules.tick()
    world.files.add_csv("landing/day2.csv", CSV)
    world.clock.current = FIRE + timedelta(hours=1, minutes=1)
    [later] = await world.schedules.tick()
    await world.plan()
    sources = {p["uri"] for part in (await world.jobs.get(later)).spec["plan"]["partitions"] for p in part["pieces"]}
    assert sources == {"landing/day1.csv", "landing/day2.csv"}


async def test_a_fire_whose_sources_match_nothing_records_a_warning_and_the_tick_goes_on(world: Scheduled) -> None:
    _, warnings = await saved_before_the_fire(world, hourly("empty", ("inbox/*.csv",)))
    assert "no file matches" in warnings[0]  # kept: the first file may land later
    await saved_before_the_fire(world, hourly())
    assert await world.schedules.tick() == [fire_id("landing", FIRE)]  # the other schedule still ran
    last = await world.schedules.last_run("empty")
    assert last is not None and last["ingestion_id"] is None and "inbox/*.csv" in last["warning"]
    world.files.add_csv("inbox/late.csv", CSV)  # arrives within the lookback window: the next tick takes it
    assert fire_id("empty", FIRE) in await world.schedules.tick()


async def test_set_refuses_what_would_fail_at_every_fire(world: Scheduled) -> None:
    with pytest.raises(InvalidSpec) as bad_cron:
        await world.schedules.set(IngestionSchedule("x", "every hour", hourly().ingestion))
    assert bad_cron.value.details["field"] == "cron"
    with pytest.raises(InvalidSpec) as bad_zone:
        await world.schedules.set(hourly(timezone="Mars/Olympus"))
    assert bad_zone.value.details["field"] == "timezone"
    keyed = IngestionSpec(("landing/*.csv",), "events", keys=("nope",), mode="upsert")  # type: ignore[arg-type]
    with pytest.raises(InvalidSpec, match="no column"):
        await world.schedules.set(IngestionSchedule("x", HOURLY, keyed.to_dict()))
    with pytest.raises(InvalidIdentifier):
        await world.schedules.set(hourly(name="../etc"))
    with pytest.raises(InvalidSpec, match="dispatch"):
        await world.schedules.set(IngestionSchedule("x", HOURLY, {**hourly().ingestion, "dispatch": "external"}))
    assert await world.schedules.all() == []


async def test_get_and_delete(world: Scheduled) -> None:
    stored, _ = await world.schedules.set(hourly())
    assert await world.schedules.get("landing") == stored
    assert world.schedules.next_runs(stored, 2) == ["2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"]
    await world.schedules.delete("landing")
    with pytest.raises(NotFound):
        await world.schedules.get("landing")
    with pytest.raises(NotFound):
        await world.schedules.delete("landing")


async def test_submit_with_a_known_id_returns_the_existing_ingestion(world: Scheduled) -> None:
    service = IngestionService(files=world.files, jobs=world.jobs, events=InMemoryEventLog(), queue=world.queue,
                               clock=world.clock, ids=SequentialIds())
    spec = IngestionSpec(("landing/day1.csv",), "events", partitions=2)
    first = await service.submit(spec, "ing_fixed")
    again = await service.submit(spec, "ing_fixed")
    assert first.id == again.id == "ing_fixed" and await world.plan() == ["ing_fixed"]
    await service.submit(spec, "ing_fixed")  # planned: asking again enqueues nothing more
    assert await world.plan() == ["ing_fixed"] and len(world.stage_tasks()) == 2


async def test_a_fire_recorded_by_a_submitter_that_died_before_enqueueing_is_planned_at_the_next_tick(
        world: Scheduled) -> None:
    service = IngestionService(files=world.files, jobs=world.jobs, events=InMemoryEventLog(), queue=world.queue,
                               clock=world.clock, ids=SequentialIds())
    spec = IngestionSpec(("landing/day1.csv",), "events")
    inputs = await check_inputs(world.files, spec)  # recorded, then the submitter died: no plan task queued
    await world.jobs.create(JobRecord("ing_lost", "ingestion", JobState.QUEUED, world.clock.now(), inputs.to_dict()))
    await service.submit(spec, "ing_lost")
    assert await world.plan() == ["ing_lost"] and len(world.stage_tasks()) == 1
