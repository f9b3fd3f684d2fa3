"""Finished jobs expire: their record and event stream get one TTL, set with the terminal transition,
and nothing afterwards (updates, late events) clears it (real Redis)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from adapters.redis import RedisEventLog, RedisJobStore
from domain.services.job_events import JobEvents
from domain.services.job_lifecycle import JobLifecycle
from domain.types.errors import JobNotFound
from domain.types.events import EventType
from domain.types.jobs import JobRecord, JobState, sources_for
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration
HOUR = 3600
CLOCK = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
UNFINISHED = frozenset({JobState.QUEUED, JobState.RUNNING})  # the store checks only what it is given


async def ttls(redis: aioredis.Redis, namespace: str, job_id: str) -> tuple[int, int]:
    """Seconds left on the record and on the event stream (-1: no TTL, -2: no key)."""
    return await redis.ttl(f"{namespace}job:{job_id}"), await redis.ttl(f"{namespace}events:job:{job_id}")


async def queued_job(jobs: RedisJobStore, events: RedisEventLog, job_id: str = "job-1") -> None:
    """A job as the services submit it: the record, then its `queued` event."""
    await jobs.create(JobRecord(id=job_id, kind="train", state=JobState.QUEUED, created_at=CLOCK.now()))
    await JobEvents(events, CLOCK, job_id).emit(EventType.QUEUED)


async def end(jobs: RedisJobStore, job_id: str, state: JobState = JobState.COMPLETED) -> JobRecord:
    return await jobs.transition(job_id, state, UNFINISHED, {"finished_at": CLOCK.now()})


@pytest.fixture
def events(redis_client: aioredis.Redis, namespace: str) -> RedisEventLog:
    return RedisEventLog(redis_client, namespace)


@pytest.mark.parametrize("final", [JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED])
async def test_ending_a_job_expires_its_record_and_its_events_together(
    redis_client: aioredis.Redis, namespace: str, events: RedisEventLog, final: JobState
) -> None:
    jobs = RedisJobStore(redis_client, namespace, retention_s=HOUR)
    await queued_job(jobs, events)
    await end(jobs, "job-1", final)
    record_ttl, stream_ttl = await ttls(redis_client, namespace, "job-1")
    assert 0 < record_ttl <= HOUR and 0 < stream_ttl <= HOUR


async def test_transitions_that_do_not_end_the_job_leave_both_keys_unexpiring(
    redis_client: aioredis.Redis, namespace: str, events: RedisEventLog
) -> None:
    jobs = RedisJobStore(redis_client, namespace, retention_s=HOUR)
    await queued_job(jobs, events)
    await jobs.transition("job-1", JobState.QUEUED, frozenset({JobState.QUEUED}), {"spec": {"plan": 1}})
    await jobs.transition("job-1", JobState.RUNNING, sources_for(JobState.RUNNING), {"attempts": 1})
    await jobs.update("job-1", {"cancel_requested": True})
    assert await ttls(redis_client, namespace, "job-1") == (-1, -1)


async def test_retention_0_keeps_finished_jobs_forever(
    redis_client: aioredis.Redis, namespace: str, events: RedisEventLog
) -> None:
    jobs = RedisJobStore(redis_client, namespace, retention_s=0)
    await queued_job(jobs, events)
    await end(jobs, "job-1")
    assert await ttls(redis_client, namespace, "job-1") == (-1, -1)


async def test_updates_and_late_events_after_the_end_keep_the_ttl(
    redis_client: aioredis.Redis, namespace: str, events: RedisEventLog
) -> None:
    jobs = RedisJobStore(redis_client, namespace, retention_s=HOUR)
    await queued_job(jobs, events)
    await end(jobs, "job-1", JobState.FAILED)
    await jobs.update("job-1", {"cancel_requested": True, "error": None})  # HSET and HDEL
    await JobEvents(events, CLOCK, "job-1").emit(EventType.FAILED, {"message": "boom"})  # XADD
    record_ttl, stream_ttl = await ttls(redis_client, namespace, "job-1")
    assert 0 < record_ttl <= HOUR and 0 < stream_ttl <= HOUR
    assert [e.type for e in await events.read("job:job-1")] == ["queued", "failed"]


async def test_a_job_ended_before_any_event_still_gets_an_expiring_event_stream(
    redis_client: aioredis.Redis, namespace: str, events: RedisEventLog
) -> None:
    """A crash between recording a job and its `queued` event leaves no stream to expire yet."""
    jobs = RedisJobStore(redis_client, namespace, retention_s=HOUR)
    await jobs.create(JobRecord(id="job-1", kind="train", state=JobState.QUEUED, created_at=CLOCK.now()))
    await end(jobs, "job-1", JobState.CANCELLED)
    await JobEvents(events, CLOCK, "job-1").emit(EventType.CANCELLED)
    assert 0 < (await ttls(redis_client, namespace, "job-1"))[1] <= HOUR
    assert [e.type for e in await events.read("job:job-1")] == ["cancelled"]


async def wait_until_gone(redis: aioredis.Redis, namespace: str, job_id: str, limit_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while await ttls(redis, namespace, job_id) != (-2, -2):
        assert loop.time() < deadline, "the finished job's keys did not expire"
        await asyncio.sleep(0.1)


async def test_after_the_retention_the_job_is_not_found_and_its_task_is_dropped_quietly(
    redis_client: aioredis.Redis, namespace: str, events: RedisEventLog, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = RedisJobStore(redis_client, namespace, retention_s=1)
    await queued_job(jobs, events)
    await end(jobs, "job-1", JobState.CANCELLED)
    await wait_until_gone(redis_client, namespace, "job-1")
    with pytest.raises(JobNotFound):
        await jobs.get("job-1")
    assert await events.read("job:job-1") == []

    async def body(record: JobRecord, job_events: JobEvents) -> dict[str, object]:
        raise AssertionError("an expired job must not run")

    with caplog.at_level(logging.WARNING, logger="domain.services.job_lifecycle"):
        await JobLifecycle(jobs, events, CLOCK).execute("job-1", body)  # a late delivery of its task
    assert "job job-1 has no record" in caplog.text
    assert await ttls(redis_client, namespace, "job-1") == (-2, -2)  # nothing was written back


@pytest.mark.parametrize(("days", "seconds"), [(0, 0), (30, 30 * 86400), (0.5, 43200), (1e-9, 1)])
def test_the_setting_in_days_becomes_whole_seconds(days: float, seconds: int) -> None:
    assert Settings(job_retention_days=days).job_retention_s == seconds


async def test_the_container_builds_the_job_store_with_the_configured_retention(
    redis_url: str, redis_client: aioredis.Redis, namespace: str, events: RedisEventLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLPLANE_JOB_RETENTION_DAYS", "2")
    env = namespace.removeprefix("mlplane:").rstrip(":")
    container = Container(settings=Settings(env=env, seed_demo=False), redis_url=redis_url)
    try:
        await queued_job(container.jobs(), events)
        await end(container.jobs(), "job-1")
    finally:
        await container.redis().aclose()
    record_ttl, stream_ttl = await ttls(redis_client, namespace, "job-1")
    assert 2 * 86400 - 60 < record_ttl <= 2 * 86400 and 2 * 86400 - 60 < stream_ttl <= 2 * 86400
