"""RedisEventLog subscribers under load and failure: two hundred subscribers sharing one pub/sub
connection, a killed pub/sub connection, a slow subscriber behind a bounded buffer, a cancelled
subscriber, and a subscription that outlives a Redis restart. Throughout, every subscriber gets
every event exactly once and in order, and nothing stays subscribed after it leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from adapters.embedded_redis import EmbeddedRedisServer
from adapters.redis import RedisEventLog
from domain.types.errors import TransientError

pytestmark = pytest.mark.integration

AT = datetime(2026, 1, 2, tzinfo=UTC)
TOPIC = "job:load"
MakeLog = Callable[..., RedisEventLog]


@pytest_asyncio.fixture
async def make_log(redis_client: aioredis.Redis, namespace: str) -> AsyncIterator[MakeLog]:
    logs: list[RedisEventLog] = []

    def make(**options: int) -> RedisEventLog:
        logs.append(RedisEventLog(redis_client, namespace, **options))
        return logs[-1]

    yield make
    for log in logs:
        await log.close()


async def append_n(log: RedisEventLog, n: int, start: int = 0) -> list[str]:
    return [(await log.append(TOPIC, "progress", {"i": i}, AT)).id for i in range(start, start + n)]


async def collect(log: RedisEventLog, n: int) -> list[str]:
    received: list[str] = []
    async with aclosing(log.subscribe(TOPIC)) as events:
        async for event in events:
            received.append(event.id)
            if len(received) == n:
                return received
    return received


async def subscribers_on(client: aioredis.Redis, namespace: str) -> int:
    """Server-side subscriptions to the topic's channel: connections, not in-process consumers."""
    [(_, count)] = await client.pubsub_numsub(f"{namespace}notify:{TOPIC}")
    return int(count)


async def until_subscribers(client: aioredis.Redis, namespace: str, expected: int) -> None:
    while await subscribers_on(client, namespace) != expected:
        await asyncio.sleep(0.01)


async def test_two_hundred_subscribers_share_one_connection_and_get_every_event(
    make_log: MakeLog, redis_client: aioredis.Redis, namespace: str
) -> None:
    log = make_log()
    async with asyncio.timeout(30):
        appended = await append_n(log, 50)
        consumers = [asyncio.ensure_future(collect(log, 151)) for _ in range(200)]
        await until_subscribers(redis_client, namespace, 1)
        appended += await append_n(log, 100, start=50)
        shared = await subscribers_on(redis_client, namespace)  # all 200 still wait for one more
        appended += await append_n(log, 1, start=150)
        results = await asyncio.gather(*consumers)

    assert shared == 1
    assert all(received == appended for received in results)


async def test_killing_the_pubsub_connection_loses_and_repeats_nothing(
    make_log: MakeLog, redis_client: aioredis.Redis, namespace: str
) -> None:
    log = make_log()
    async with asyncio.timeout(30):
        consumers = [asyncio.ensure_future(collect(log, 300)) for _ in range(20)]
        await until_subscribers(redis_client, namespace, 1)
        appended = await append_n(log, 100)
        killed = await redis_client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        appended += await append_n(log, 100, start=100)  # published while nobody listens
        await until_subscribers(redis_client, namespace, 1)
        killed += await redis_client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        appended += await append_n(log, 100, start=200)
        results = await asyncio.gather(*consumers)

    assert killed >= 2
    assert log.stats()["reconnects"] >= 2
    assert all(received == appended for received in results)


async def test_a_slow_subscriber_gets_everything_with_a_bounded_buffer(make_log: MakeLog) -> None:
    log = make_log(buffer_size=100)
    async with asyncio.timeout(40), aclosing(log.subscribe(TOPIC)) as slow:
        appended = await append_n(log, 1)
        received = [(await anext(slow)).id]
        appended += await append_n(log, 4999, start=1)  # the slow one reads nothing meanwhile
        high_water = log.stats()["buffer_high_water"]
        while len(received) < len(appended):
            received.append((await anext(slow)).id)

    assert received == appended
    assert 0 < high_water <= 100
    assert log.stats()["overflows"] >= 1


async def test_a_cancelled_subscriber_unsubscribes(
    make_log: MakeLog, redis_client: aioredis.Redis, namespace: str
) -> None:
    log = make_log()
    async with asyncio.timeout(10):
        consumer = asyncio.ensure_future(collect(log, 1))
        await until_subscribers(redis_client, namespace, 1)
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await until_subscribers(redis_client, namespace, 0)


async def test_a_subscription_survives_a_redis_restart(tmp_path: Path) -> None:
    server, restarted = EmbeddedRedisServer(tmp_path), EmbeddedRedisServer(tmp_path)
    client = aioredis.Redis.from_url(await server.start())
    log = RedisEventLog(client, "mlplane:restart:")
    try:
        async with asyncio.timeout(30):
            consumer = asyncio.ensure_future(collect(log, 40))
            appended = await append_n(log, 20)
            await server.stop()  # SHUTDOWN: the AOF holds all 20
            restarted.port = server.port
            await restarted.start()
            appended += [await append_until_accepted(log, i) for i in range(20, 40)]
            received = await consumer
    finally:
        await log.close()
        await client.aclose()
        await restarted.stop()
        await server.stop()

    assert received == appended
    assert log.stats()["reconnects"] >= 1


async def append_until_accepted(log: RedisEventLog, i: int) -> str:
    """The first command after a restart may hit a dead pooled connection: retry it."""
    while True:
        try:
            return (await log.append(TOPIC, "progress", {"i": i}, AT)).id
        except TransientError:
            await asyncio.sleep(0.05)
