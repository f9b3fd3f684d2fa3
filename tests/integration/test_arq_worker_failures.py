"""The arq worker adapter ends every task with a result or a `give_up`: an unexpected exception and a try
past the queue's timeout are given up at once with a readable cause (and the try it happened on), and a
`give_up` that fails is tried again instead of the job ending `failed` inside arq with nobody told, and
without running the handler again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from adapters.arq.give_up import GIVE_UP_CALLS
from adapters.arq.task_queue import ArqTaskQueue
from adapters.arq.worker import ArqWorker, QueueSettings, TaskHandler

pytestmark = pytest.mark.integration
QUEUE = "failures-test"


class Outcomes:
    """What the handler saw: its tries, and each give_up's message and try count."""

    def __init__(self) -> None:
        self.tries: list[int] = []
        self.gave_up: list[tuple[str, int]] = []


@asynccontextmanager
async def worker_running(redis_url: str, namespace: str, handler: TaskHandler,
                         timeout_s: float = 30) -> AsyncIterator[ArqTaskQueue]:
    settings = QueueSettings(QUEUE, timeout_s=timeout_s, max_tries=3, concurrency=2, backoff_base_s=0.05)
    worker = ArqWorker(redis_url, namespace, settings, [handler], "w-failures")
    pool = ArqRedis.from_url(redis_url)
    await worker.start()
    try:
        yield ArqTaskQueue(pool, namespace)
    finally:
        await worker.stop(grace_s=1)
        await pool.aclose()


async def until_given_up(outcomes: Outcomes, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not outcomes.gave_up:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # a second give_up, or another try, would land within this


def handler_for(outcomes: Outcomes, run_try: Any, failing_give_ups: int = 0) -> TaskHandler:
    left = [failing_give_ups]

    async def run(payload: Mapping[str, Any]) -> None:
        raise AssertionError("run_try is set: run is not called")

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        raise AssertionError("give_up_try is set: give_up is not called")

    async def give_up_try(payload: Mapping[str, Any], message: str, tries: int) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise ConnectionError("dead-letter store unreachable")
        outcomes.gave_up.append((message, tries))

    return TaskHandler("job", run, give_up, run_try=run_try, give_up_try=give_up_try)


async def test_an_unexpected_exception_is_given_up_at_once_with_its_cause_and_no_credentials(
        redis_url: str, namespace: str) -> None:
    outcomes = Outcomes()

    async def buggy(payload: Mapping[str, Any], attempt: int) -> None:
        outcomes.tries.append(attempt)
        raise KeyError("https://admin:hunter2@sink.example/hook?token=abc")

    async with worker_running(redis_url, namespace, handler_for(outcomes, buggy)) as queue:
        assert await queue.enqueue("job", {}, job_id="j-bug", queue=QUEUE)
        await until_given_up(outcomes)
    assert outcomes.tries == [1]  # a bug is not retried
    ((message, tries),) = outcomes.gave_up
    assert tries == 1 and "KeyError" in message and "sink.example/hook" in message, message
    assert "hunter2" not in message and "token=abc" not in message, message


async def test_a_try_past_the_queue_timeout_is_given_up_with_the_timeout_as_its_cause(
        redis_url: str, namespace: str) -> None:
    outcomes = Outcomes()

    async def hangs(payload: Mapping[str, Any], attempt: int) -> None:
        outcomes.tries.append(attempt)
        await asyncio.sleep(60)

    async with worker_running(redis_url, namespace, handler_for(outcomes, hangs), timeout_s=1) as queue:
        assert await queue.enqueue("job", {}, job_id="j-slow", queue=QUEUE)
        await until_given_up(outcomes)
    ((message, tries),) = outcomes.gave_up
    assert outcomes.tries == [1] and tries == 1
    assert "timed out after 1 s" in message, message


async def test_a_give_up_that_fails_is_called_again_within_the_try(redis_url: str, namespace: str) -> None:
    outcomes = Outcomes()

    async def buggy(payload: Mapping[str, Any], attempt: int) -> None:
        outcomes.tries.append(attempt)
        raise ValueError("bad row")

    handler = handler_for(outcomes, buggy, failing_give_ups=2)
    async with worker_running(redis_url, namespace, handler) as queue:
        assert await queue.enqueue("job", {}, job_id="j-retry-give-up", queue=QUEUE)
        await until_given_up(outcomes)
    assert outcomes.tries == [1]  # the handler did not run again because its give_up failed
    assert len(outcomes.gave_up) == 1, outcomes.gave_up
    message, tries = outcomes.gave_up[0]
    assert "ValueError: bad row" in message and tries == 1, message


async def test_a_give_up_that_still_fails_is_finished_by_the_next_try_without_running_the_handler(
        redis_url: str, redis_client: aioredis.Redis, namespace: str) -> None:
    outcomes = Outcomes()

    async def buggy(payload: Mapping[str, Any], attempt: int) -> None:
        outcomes.tries.append(attempt)
        raise ValueError("bad row")

    handler = handler_for(outcomes, buggy, failing_give_ups=GIVE_UP_CALLS + 1)  # every call of the first try
    async with worker_running(redis_url, namespace, handler) as queue:
        assert await queue.enqueue("job", {}, job_id="j-give-up-later", queue=QUEUE)
        await until_given_up(outcomes)
    assert outcomes.tries == [1]  # the second try only gave up
    assert outcomes.gave_up == [(outcomes.gave_up[0][0], 1)] and "ValueError: bad row" in outcomes.gave_up[0][0]
    assert not await redis_client.exists(f"{namespace}giving-up:j-give-up-later")  # done with
