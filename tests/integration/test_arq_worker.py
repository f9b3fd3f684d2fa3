"""The arq worker adapter: cron ticks run once across workers (and once in each of two environments
sharing a Redis), and transient failures retry
with backoff until they succeed or the job gives up with a readable cause."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

import pytest
from arq.connections import ArqRedis

from adapters.arq.task_queue import ArqTaskQueue
from adapters.arq.worker import ArqWorker, CronTask, QueueSettings, TaskHandler
from domain.types.errors import TransientError

pytestmark = pytest.mark.integration
EVERY_2_S = set(range(0, 60, 2))


async def run_for(workers: list[ArqWorker], seconds: float) -> None:
    """Start the workers, let them run for `seconds`, stop them."""
    for worker in workers:
        await worker.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        for worker in workers:
            await worker.stop(grace_s=1)


async def test_a_cron_tick_runs_once_however_many_workers_run(redis_url: str, namespace: str) -> None:
    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(int(time.time()))

    settings = QueueSettings("cron-test", timeout_s=30, max_tries=2, concurrency=2)
    await run_for([ArqWorker(redis_url, namespace, settings, [], f"w{i}", [CronTask("tick", tick, second=EVERY_2_S)])
                   for i in range(3)], 7.5)  # three or four ticks
    assert len(ticks) >= 2
    assert len(ticks) == len(set(ticks)), ticks  # never two runs of one tick


async def test_transient_errors_retry_then_give_up_with_the_cause(redis_url: str, namespace: str) -> None:
    attempts: list[int] = []
    gave_up: list[str] = []

    async def flaky(payload: Mapping[str, Any]) -> None:
        attempts.append(payload["n"])
        raise TransientError("warehouse unreachable")

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        gave_up.append(message)

    settings = QueueSettings("retry-test", timeout_s=30, max_tries=3, concurrency=1, backoff_base_s=0.2)
    worker = ArqWorker(redis_url, namespace, settings, [TaskHandler("flaky", flaky, give_up)], "w-retry")
    pool = ArqRedis.from_url(redis_url)
    await worker.start()
    try:
        assert await ArqTaskQueue(pool, namespace).enqueue("flaky", {"n": 1}, job_id="j1", queue="retry-test")
        assert not await ArqTaskQueue(pool, namespace).enqueue("flaky", {"n": 1}, job_id="j1", queue="retry-test")
        async with asyncio.timeout(30):
            while not gave_up:
                await asyncio.sleep(0.1)
    finally:
        await worker.stop(grace_s=1)
        await pool.aclose()
    assert attempts == [1, 1, 1]
    assert gave_up == ["gave up after 3 attempts: warehouse unreachable"]


async def test_two_environments_sharing_a_redis_each_run_every_cron_tick(redis_url: str) -> None:
    """Each environment's scheduler ticks on its own: neither takes the other's tick as its own."""
    ticks: dict[str, list[int]] = {"dev": [], "prod": []}

    def counter(env: str) -> CronTask:
        async def tick() -> None:
            ticks[env].append(int(time.time()))

        return CronTask("tick", tick, second=EVERY_2_S)

    settings = QueueSettings("cron-envs", timeout_s=30, max_tries=2, concurrency=2)
    suffix = uuid4().hex[:8]
    await run_for([ArqWorker(redis_url, f"mlplane:{env}-{suffix}:", settings, [], f"w-{env}", [counter(env)])
                   for env in ticks], 7.5)  # three or four ticks
    assert len(ticks["dev"]) >= 2 and len(ticks["prod"]) >= 2, ticks
    assert sorted(ticks["dev"]) == sorted(ticks["prod"]), ticks  # the same ticks, once in each


async def test_the_same_job_id_in_two_environments_is_queued_and_run_in_both(redis_url: str) -> None:
    """A fire-time job id (or an action key) both environments produce runs in each, once."""
    runs: list[str] = []
    pool = ArqRedis.from_url(redis_url)
    suffix = uuid4().hex[:8]
    envs = [f"mlplane:dev-{suffix}:", f"mlplane:prod-{suffix}:"]
    settings = QueueSettings("same-id", timeout_s=30, max_tries=1, concurrency=1)

    def handler(env: str) -> TaskHandler:
        async def run(payload: Mapping[str, Any]) -> None:
            runs.append(env)

        async def give_up(payload: Mapping[str, Any], message: str) -> None:
            raise AssertionError(message)

        return TaskHandler("job", run, give_up)

    workers = [ArqWorker(redis_url, env, settings, [handler(env)], f"w-{i}") for i, env in enumerate(envs)]
    fire = "retrain:churn:2026-11-27T04:00"
    try:
        for env in envs:
            assert await ArqTaskQueue(pool, env).enqueue("job", {}, job_id=fire, queue="same-id")
        assert not await ArqTaskQueue(pool, envs[0]).enqueue("job", {}, job_id=fire, queue="same-id")  # one per env
        for worker in workers:
            await worker.start()
        async with asyncio.timeout(20):
            while len(runs) < 2:
                await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            await worker.stop(grace_s=1)
        await pool.aclose()
    assert sorted(runs) == sorted(envs)
