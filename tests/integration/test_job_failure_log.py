"""Every failed job leaves one line in the daemon log, written where jobs end (JobLifecycle, real
Redis job store and event log): a warning with the job's id, kind and cause for an expected failure,
an error with the traceback for a crash."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.redis import RedisEventLog, RedisJobStore
from domain.services.job_events import JobEvents
from domain.services.job_lifecycle import JobLifecycle
from domain.types.errors import UnusableTrainingData
from domain.types.jobs import JobRecord, JobState
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration
CLOCK = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
LOGGER = "domain.services.job_lifecycle"


@pytest.fixture
async def lifecycle(redis_client: aioredis.Redis, namespace: str) -> JobLifecycle:
    jobs = RedisJobStore(redis_client, namespace, retention_s=3600)
    for job_id, kind in (("t1", "train"), ("i1", "ingestion")):
        await jobs.create(JobRecord(id=job_id, kind=kind, state=JobState.QUEUED, created_at=CLOCK.now()))
    return JobLifecycle(jobs, RedisEventLog(redis_client, namespace), CLOCK)


async def unusable_label(record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
    raise UnusableTrainingData("label 'ts' holds datetime64 values; pick a label column of numbers or text")


async def a_bug(record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
    return {"rows": 1 / 0}


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


async def test_an_expected_failure_logs_one_warning_with_id_kind_and_cause_and_no_traceback(
        lifecycle: JobLifecycle, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await lifecycle.execute("t1", unusable_label)
    [line] = lines(caplog)
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert line.getMessage() == ("job t1 (train) failed: label 'ts' holds datetime64 values; "
                                 "pick a label column of numbers or text")


async def test_a_crash_logs_one_error_with_its_traceback(
        lifecycle: JobLifecycle, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await lifecycle.execute("t1", a_bug)
    [line] = lines(caplog)
    assert line.levelno == logging.ERROR
    assert "job t1 (train) failed: internal error: ZeroDivisionError" in line.getMessage()
    assert "Traceback (most recent call last)" in line.getMessage() and "1 / 0" in line.getMessage()


async def a_bug_naming_a_signed_url(record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
    raise RuntimeError("fetching https://user:hunter2@data.example/d.csv?X-Goog-Signature=SECRETSIG failed")


async def test_a_crash_traceback_keeps_url_credentials_out_of_the_log(
        lifecycle: JobLifecycle, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await lifecycle.execute("t1", a_bug_naming_a_signed_url)
    assert "data.example/d.csv" in caplog.text
    assert "hunter2" not in caplog.text and "SECRETSIG" not in caplog.text


async def test_a_job_failed_from_outside_its_body_is_logged_too(
        lifecycle: JobLifecycle, caplog: pytest.LogCaptureFixture) -> None:
    """The retries of a transient error ran out (the queue's give-up), e.g. an ingestion's commit."""
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await lifecycle.fail("i1", "commit: warehouse unavailable after 5 attempts")
    [line] = lines(caplog)
    assert line.levelno == logging.WARNING
    assert line.getMessage() == "job i1 (ingestion) failed: commit: warehouse unavailable after 5 attempts"
