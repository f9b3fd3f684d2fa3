"""`mlplane worker --queue actions` as a real subprocess on real Redis, delivering to a local sink:
a permanent error after transient ones is dead-lettered with the true number of tries, and the
worker's webhook session is closed at shutdown (no "Unclosed client session" in its output)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from adapters.arq.task_queue import ArqTaskQueue
from adapters.redis_streams.dead_letters import RedisDeadLetters
from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from tests.support.daemon import DaemonProcess
from tests.support.scripted_sink import ScriptedSink

pytestmark = pytest.mark.integration


@pytest.fixture
async def sink() -> AsyncIterator[ScriptedSink]:
    server = ScriptedSink()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def worker(redis_url: str, namespace: str, tmp_path: Path) -> AsyncIterator[DaemonProcess]:
    env = {"MLPLANE_REDIS_URL": redis_url, "MLPLANE_ENV": namespace.split(":")[1],
           "MLPLANE_ACTIONS_BACKOFF_BASE_S": "0.05", "MLPLANE_ACTIONS_MAX_TRIES": "6"}
    process = DaemonProcess(tmp_path / "worker", env, command=("worker", "--queue", "actions"))
    await asyncio.to_thread(process.start)
    yield process
    process.kill()  # no-op when the test stopped it already


async def enqueue(redis_url: str, namespace: str, key: str, url: str) -> None:
    pool = ArqRedis.from_url(redis_url)
    try:
        payload = {"pipeline": "p1", "key": key, "body": {"event_id": key, "score": 0.9},
                   "action": {"name": "hook", "type": "webhook", "url": url, "timeout_s": 2}}
        await ArqTaskQueue(pool, namespace).enqueue(ACTION_TASK, payload, job_id=key, queue=ACTIONS_QUEUE)
    finally:
        await pool.aclose()


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


async def test_a_400_on_the_third_try_is_dead_lettered_with_attempts_3_and_the_session_closes_cleanly(
    worker: DaemonProcess, sink: ScriptedSink, redis_url: str, namespace: str, redis_client: aioredis.Redis,
) -> None:
    sink.script["p1:e1:hook"] = [503, 503, 400]
    await enqueue(redis_url, namespace, "p1:e1:hook", sink.url)
    await enqueue(redis_url, namespace, "p1:e2:hook", sink.url)
    letters = RedisDeadLetters(redis_client, namespace)

    async def parked() -> bool:
        return bool(await letters.list("p1", "action"))

    async def delivered() -> bool:
        return sink.delivered["p1:e2:hook"] == 1

    await until(parked)
    await until(delivered)
    (letter,) = await letters.list("p1", "action")
    assert letter.key == "p1:e1:hook" and letter.attempts == 3, letter
    assert "400" in letter.cause and sink.attempts["p1:e1:hook"] == 3
    assert await asyncio.to_thread(worker.stop) == 0, worker.log_text()[-3000:]
    assert "Unclosed client session" not in worker.log_text()
    assert "Unclosed connector" not in worker.log_text()
