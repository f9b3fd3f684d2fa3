"""A try cut short because its worker stops (a deploy, SIGTERM) is handed back without counting as a try:
a job handed back more times than its queue's max_tries still runs, and its handler sees try 1 each time,
instead of being given up without ever having failed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from arq.connections import ArqRedis

from adapters.arq.task_queue import ArqTaskQueue
from adapters.arq.worker import ArqWorker, QueueSettings, TaskHandler

pytestmark = pytest.mark.integration
QUEUE = "hand-back"
MAX_TRIES = 2


async def test_a_job_handed_back_more_than_max_tries_times_still_runs(redis_url: str, namespace: str) -> None:
    tries: list[int] = []
    given_up: list[str] = []
    finished: list[int] = []
    finish = asyncio.Event()

    async def run_try(payload: Mapping[str, Any], attempt: int) -> None:
        tries.append(attempt)
        await finish.wait()  # runs until its worker stops, but for the last worker
        finished.append(attempt)

    async def run(payload: Mapping[str, Any]) -> None:
        raise AssertionError("run_try is set")

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        given_up.append(message)

    handler = TaskHandler("long", run, give_up, run_try=run_try)
    settings = QueueSettings(QUEUE, timeout_s=30, max_tries=MAX_TRIES, concurrency=1)
    pool = ArqRedis.from_url(redis_url)
    try:
        assert await ArqTaskQueue(pool, namespace).enqueue("long", {}, job_id="j-long", queue=QUEUE)
        for stop in range(MAX_TRIES + 2):
            worker = ArqWorker(redis_url, namespace, settings, [handler], f"w-hand-back-{stop}")
            await worker.start()
            try:
                async with asyncio.timeout(10):
                    while not given_up and len(tries) <= stop:
                        await asyncio.sleep(0.05)
                if given_up:
                    break
                if stop == MAX_TRIES + 1:
                    finish.set()
            finally:
                await worker.stop(grace_s=0.2)  # hands the running try back
    finally:
        await pool.aclose()
    assert given_up == [] and tries == [1] * (MAX_TRIES + 2), (tries, given_up)
    assert finished == [1]
