"""EventSource contract: consumer-group semantics, against the in-memory broker and Redis Streams."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.producer import RedisStreamProducer
from tests.fakes.streams import InMemoryEventSource, InMemoryStreams

pytestmark = pytest.mark.contract
GROUP = "pipeline:p1"


@pytest.fixture(params=["memory", "redis"])
def kit(request: pytest.FixtureRequest) -> tuple[Any, Callable[[str], Any]]:
    if request.param == "memory":
        broker = InMemoryStreams()
        return broker, lambda consumer: InMemoryEventSource(broker, "s", GROUP, consumer)
    client, namespace = request.getfixturevalue("redis_client"), request.getfixturevalue("namespace")
    return (RedisStreamProducer(client, namespace),
            lambda consumer: RedisEventSource(client, namespace, "s", GROUP, consumer))


async def test_new_entries_are_delivered_once_in_order(kit: tuple[Any, Any]) -> None:
    producer, source = kit[0], kit[1]("c1")
    await source.read(10, 0)  # creates the group before anything is produced
    ids = await producer.append("s", ['{"n":1}', '{"n":2}', '{"n":3}'])
    first = await source.read(2, 10)
    second = await source.read(10, 10)
    assert [e.id for e in first + second] == ids
    assert [e.raw for e in first] == ['{"n":1}', '{"n":2}'] and {e.deliveries for e in first + second} == {1}
    assert await source.read(10, 10) == []


async def test_unacked_entries_return_to_the_same_consumer_after_a_restart(kit: tuple[Any, Any]) -> None:
    producer, make = kit
    source = make("c1")
    await source.read(10, 0)
    ids = await producer.append("s", ["a", "b", "c"])
    await source.read(10, 10)
    await source.ack(ids[:1])
    restarted = make("c1")
    again = await restarted.read(10, 10)
    assert [(e.id, e.deliveries) for e in again] == [(ids[1], 2), (ids[2], 2)]
    assert await producer.backlog("s", GROUP) == {"lag": 0, "pending": 2}


async def test_stale_entries_of_another_consumer_are_claimed_after_the_idle_timeout(kit: tuple[Any, Any]) -> None:
    producer, make = kit
    dead, alive = make("dead"), make("alive")
    await dead.read(10, 0)
    ids = await producer.append("s", ["a", "b"])
    await dead.read(10, 10)
    assert await alive.claim_stale(60_000, 10) == []  # not idle long enough yet
    await asyncio.sleep(0.06)
    claimed = await alive.claim_stale(50, 10)
    assert [(e.id, e.raw, e.deliveries) for e in claimed] == [(ids[0], "a", 2), (ids[1], "b", 2)]
    await alive.ack(ids)
    assert await producer.backlog("s", GROUP) == {"lag": 0, "pending": 0}


async def test_trimming_never_drops_an_entry_still_pending(kit: tuple[Any, Any]) -> None:
    producer, make = kit
    source = make("c1")
    await source.read(10, 0)
    ids = await producer.append("s", [str(n) for n in range(5)])
    await source.read(5, 10)
    await source.ack([ids[0], ids[1], ids[3]])
    assert await source.trim() == 2
    restarted = make("c1")
    assert [e.id for e in await restarted.read(10, 10)] == [ids[2], ids[4]]


async def test_backlog_counts_undelivered_and_pending_entries(kit: tuple[Any, Any]) -> None:
    producer, make = kit
    source = make("c1")
    await source.read(10, 0)
    await producer.append("s", ["a", "b", "c"])
    await source.read(1, 10)
    assert await source.backlog() == {"lag": 2, "pending": 1}


async def test_oldest_pending_is_the_oldest_entry_any_consumer_holds_unacked(kit: tuple[Any, Any]) -> None:
    producer, make = kit
    dead, alive = make("dead"), make("alive")
    await dead.read(10, 0)
    assert await alive.oldest_pending() is None
    ids = await producer.append("s", ["a", "b", "c", "d"])
    await dead.read(2, 10)
    await alive.read(10, 10)
    assert await alive.oldest_pending() == ids[0]  # the dead consumer's, not this one's
    await dead.ack(ids[:1])
    assert await alive.oldest_pending() == ids[1]
    await alive.ack(ids[1:])
    assert await alive.oldest_pending() is None
