"""A worker's poll loop outlives a Redis outage: while Redis is away the loop is reported down (readiness
reads it), one warning says so, and once Redis answers on its URL again the loop polls again, so a job
enqueued after the outage runs, and the worker still stops cleanly. A loop ended by anything else is
logged as an error and restarted, a bounded number of times in a row."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from adapters.arq.task_queue import ArqTaskQueue, queue_key
from adapters.arq.worker import ArqWorker, LoopRestarts, QueueSettings, TaskHandler, queues_not_polled
from tests.support.restartable_redis import RestartableRedis, running, until

pytestmark = pytest.mark.integration
QUEUE = "outage"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RestartableRedis]:
    async with running(tmp_path) as redis:
        yield redis


async def enqueue(url: str, namespace: str, job_id: str) -> None:
    pool = ArqRedis.from_url(url)
    try:
        assert await ArqTaskQueue(pool, namespace).enqueue("note", {"n": job_id}, job_id=job_id, queue=QUEUE)
    finally:
        await pool.aclose()


def note_worker(url: str, namespace: str, done: list[str], restarts: LoopRestarts | None = None) -> ArqWorker:
    async def note(payload: Mapping[str, Any]) -> None:
        done.append(payload["n"])

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        raise AssertionError(message)

    settings = QueueSettings(QUEUE, timeout_s=30, max_tries=2, concurrency=1)
    return ArqWorker(url, namespace, settings, [TaskHandler("note", note, give_up)], "w-outage", lease_s=3,
                     restarts=restarts or LoopRestarts())


async def test_a_job_enqueued_after_a_redis_outage_runs_and_the_worker_stops_cleanly(
        server: RestartableRedis, namespace: str) -> None:
    done: list[str] = []
    worker = note_worker(server.url, namespace, done)
    await worker.start()
    try:
        await enqueue(server.url, namespace, "before")
        await until(lambda: done == ["before"], 15)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(3)  # a few seconds away: arq's poll raised ConnectionError meanwhile
        await asyncio.to_thread(server.start)
        await enqueue(server.url, namespace, "after")
        await until(lambda: done == ["before", "after"], 30)
    finally:
        await worker.stop(grace_s=1)  # raised the loop's ConnectionError before: SIGTERM exited 1


async def test_the_loop_is_reported_down_during_the_outage_with_one_warning_then_back(
        server: RestartableRedis, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    worker = note_worker(server.url, namespace, [])
    await worker.start()
    caplog.set_level(logging.INFO, logger="adapters.arq.poll_loop")
    try:
        assert worker.polling and QUEUE not in queues_not_polled()
        await asyncio.to_thread(server.stop)
        await until(lambda: not worker.polling, 5)
        assert QUEUE in queues_not_polled()
        await asyncio.sleep(3)  # several retries while Redis is away: still one warning
        await asyncio.to_thread(server.start)
        await until(lambda: worker.polling, 15)
        assert QUEUE not in queues_not_polled()
    finally:
        with contextlib.suppress(Exception):
            await worker.stop(grace_s=1)
    assert QUEUE not in queues_not_polled()  # a stopped worker is no longer this process's
    records = [r for r in caplog.records if r.name == "adapters.arq.poll_loop"]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and QUEUE in warnings[0] and "Redis" in warnings[0], warnings
    assert not [r for r in records if r.levelno >= logging.ERROR]
    assert any(r.levelno == logging.INFO and "polls again" in r.getMessage() for r in records)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "adapters.arq.poll_loop" and r.levelno == logging.ERROR]


async def test_a_loop_ended_by_another_error_is_logged_and_restarted_until_it_polls_again(
        redis_url: str, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []
    worker = note_worker(redis_url, namespace, done, LoopRestarts(max_crashes=100, base_s=0.05, cap_s=0.2))
    await redis_client.set(queue_key(namespace, QUEUE), "not a sorted set")  # every poll fails: WRONGTYPE
    await worker.start()
    try:
        await until(lambda: len(errors(caplog)) >= 2, 10)
        await redis_client.delete(queue_key(namespace, QUEUE))
        await enqueue(redis_url, namespace, "after")
        await until(lambda: done == ["after"], 15)
    finally:
        await worker.stop(grace_s=1)
    assert "ended unexpectedly; restarting it (1 of 100)" in errors(caplog)[0] and "WRONGTYPE" in errors(caplog)[0]


async def test_a_loop_that_keeps_ending_is_left_down_after_its_restarts(
        redis_url: str, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    worker = note_worker(redis_url, namespace, [], LoopRestarts(max_crashes=2, base_s=0.05, cap_s=0.1))
    await redis_client.set(queue_key(namespace, QUEUE), "not a sorted set")
    await worker.start()
    try:
        await until(lambda: any("left down" in e for e in errors(caplog)), 10)
        await redis_client.delete(queue_key(namespace, QUEUE))
        await asyncio.sleep(0.5)
        assert not worker.polling and QUEUE in queues_not_polled()  # until the process restarts
    finally:
        await worker.stop(grace_s=1)
    assert len(errors(caplog)) == 3, errors(caplog)  # two restarts, then the last word
