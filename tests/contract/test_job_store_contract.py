"""JobStore contract: the same suite against InMemoryJobStore and RedisJobStore."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.redis import RedisJobStore
from domain.types.errors import Conflict, InvalidTransition, JobNotFound
from domain.types.jobs import JobRecord, JobState
from ports.job_store import JobStore
from tests.fakes.job_store import InMemoryJobStore

pytestmark = pytest.mark.contract

CREATED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
RUNNING_ONLY = frozenset({JobState.RUNNING})


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> JobStore:
    if request.param == "memory":
        return InMemoryJobStore()
    return RedisJobStore(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))


def a_job(job_id: str = "job-1", state: JobState = JobState.QUEUED) -> JobRecord:
    return JobRecord(
        id=job_id, kind="train", state=state, created_at=CREATED,
        spec={"model": "churn", "params": {"depth": 3, "tags": ["a", "é"]}, "ratio": 0.25},
    )  # fmt: skip


async def test_a_created_job_reads_back_equal(store: JobStore) -> None:
    await store.create(a_job())

    record = await store.get("job-1")

    assert record == a_job()
    assert record.created_at.tzinfo is not None
    assert record.started_at is None and record.error is None and record.result == {}


async def test_creating_an_existing_id_is_a_conflict_and_keeps_the_first(store: JobStore) -> None:
    await store.create(a_job())

    with pytest.raises(Conflict):
        await store.create(a_job().with_changes(kind="other"))
    assert (await store.get("job-1")).kind == "train"


async def test_unknown_jobs_are_not_found(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        await store.get("nope")
    with pytest.raises(JobNotFound):
        await store.transition("nope", JobState.RUNNING, frozenset({JobState.QUEUED}))
    with pytest.raises(JobNotFound):
        await store.update("nope", {"attempts": 1})


async def test_an_allowed_transition_moves_state_and_applies_changes(store: JobStore) -> None:
    await store.create(a_job())
    started = datetime(2026, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2)))

    record = await store.transition(
        "job-1", JobState.RUNNING, frozenset({JobState.QUEUED}), {"started_at": started, "attempts": 1}
    )

    assert record.state is JobState.RUNNING
    assert record.started_at == started and record.started_at.utcoffset() == timedelta(0)
    assert record.attempts == 1
    assert await store.get("job-1") == record


async def test_a_refused_transition_names_both_states_and_changes_nothing(store: JobStore) -> None:
    await store.create(a_job(state=JobState.COMPLETED))

    with pytest.raises(InvalidTransition) as refused:
        await store.transition("job-1", JobState.RUNNING, frozenset({JobState.QUEUED}), {"attempts": 9})

    assert "completed" in refused.value.message and "running" in refused.value.message
    assert refused.value.details["current"] == "completed"
    assert refused.value.details["target"] == "running"
    assert await store.get("job-1") == a_job(state=JobState.COMPLETED)


async def test_update_changes_fields_and_none_clears_them(store: JobStore) -> None:
    await store.create(a_job())

    await store.update("job-1", {"error": "boom", "cancel_requested": True, "result": {"auc": 0.9}})
    record = await store.update("job-1", {"error": None})

    assert record.state is JobState.QUEUED
    assert record.error is None and record.cancel_requested is True
    assert record.result == {"auc": 0.9}
    assert await store.get("job-1") == record


async def test_update_refuses_state_and_unknown_fields(store: JobStore) -> None:
    await store.create(a_job())

    with pytest.raises(ValueError):
        await store.update("job-1", {"state": JobState.RUNNING})
    with pytest.raises(ValueError):
        await store.update("job-1", {"colour": "blue"})


async def test_exactly_one_of_twenty_concurrent_finishers_wins(store: JobStore) -> None:
    await store.create(a_job(state=JobState.RUNNING))

    async def finish(worker: int) -> JobRecord:
        return await store.transition("job-1", JobState.COMPLETED, RUNNING_ONLY, {"result": {"worker": worker}})

    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(*(finish(n) for n in range(20)), return_exceptions=True)

    winners = [o for o in outcomes if isinstance(o, JobRecord)]
    assert len(winners) == 1
    assert all(isinstance(o, InvalidTransition) for o in outcomes if o not in winners)
    assert await store.get("job-1") == winners[0]
