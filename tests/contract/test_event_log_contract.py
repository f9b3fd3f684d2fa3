"""EventLog contract: the same suite against InMemoryEventLog and RedisEventLog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from adapters.redis import RedisEventLog
from domain.types.errors import InvalidSpec
from domain.types.events import Event
from tests.fakes.event_log import InMemoryEventLog, stream_id

pytestmark = pytest.mark.contract

AT = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
TOPIC = "job:j1"


AnyLog = InMemoryEventLog | RedisEventLog


@pytest.fixture(params=["memory", "redis"])
def make_log(request: pytest.FixtureRequest) -> tuple[Any, ...]:
    if request.param == "memory":
        return (InMemoryEventLog,)
    return (RedisEventLog, request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))


@pytest_asyncio.fixture
async def log(make_log: tuple[Any, ...]) -> AsyncIterator[AnyLog]:
    factory, *args = make_log
    event_log = factory(*args)
    yield event_log
    await event_log.close()


async def append_n(log: AnyLog, n: int, start: int = 0) -> list[Event]:
    return [await log.append(TOPIC, "progress", {"step": i}, AT) for i in range(start, start + n)]


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    async with asyncio.timeout(10):
        return [await anext(events) for _ in range(n)]


def ids(events: Sequence[Event]) -> list[str]:
    return [event.id for event in events]


async def test_appends_get_increasing_ids_and_read_back_in_order(log: AnyLog) -> None:
    appended = await append_n(log, 5)

    stored = await log.read(TOPIC)

    assert [stream_id(i) for i in ids(appended)] == sorted({stream_id(i) for i in ids(appended)})
    assert stored == appended
    assert stored[2] == Event(appended[2].id, TOPIC, "progress", AT, {"step": 2})


async def test_read_after_an_id_returns_only_later_events_up_to_limit(log: AnyLog) -> None:
    appended = await append_n(log, 6)

    assert await log.read(TOPIC, after=appended[1].id) == appended[2:]
    assert await log.read(TOPIC, after=appended[1].id, limit=2) == appended[2:4]
    assert await log.read(TOPIC, after=appended[-1].id) == []
    assert await log.read("job:other") == []


async def test_a_malformed_after_is_invalid(log: AnyLog) -> None:
    with pytest.raises(InvalidSpec):
        await log.read(TOPIC, after="yesterday")


async def test_subscribe_yields_the_backlog_then_live_events_in_order(log: AnyLog) -> None:
    backlog = await append_n(log, 3)
    async with aclosing(log.subscribe(TOPIC)) as events:
        first = await take(events, 3)
        live = asyncio.ensure_future(take(events, 4))
        await asyncio.sleep(0)
        appended = await append_n(log, 4, start=3)
        assert ids(first + await live) == ids(backlog + appended)


async def test_subscribe_after_an_id_resumes_without_gap_or_repeat(log: AnyLog) -> None:
    appended = await append_n(log, 5)
    async with aclosing(log.subscribe(TOPIC)) as events:
        seen = await take(events, 2)
    more = await append_n(log, 3, start=5)

    async with aclosing(log.subscribe(TOPIC, after=seen[-1].id)) as events:
        resumed = await take(events, 6)

    assert ids(seen + resumed) == ids(appended + more)


async def test_a_consumer_starting_after_the_terminal_event_gets_everything(log: AnyLog) -> None:
    appended = await append_n(log, 3)
    appended.append(await log.append(TOPIC, "completed", {"version": 1}, AT))

    async with aclosing(log.subscribe(TOPIC)) as events:
        received = []
        async with asyncio.timeout(10):
            async for event in events:
                received.append(event)
                if event.is_terminal:
                    break

    assert received == appended


async def test_topics_are_separate(log: AnyLog) -> None:
    await log.append("job:a", "queued", {}, AT)
    other = await log.append("job:b", "queued", {"x": 1}, AT)

    async with aclosing(log.subscribe("job:b")) as events:
        assert await take(events, 1) == [other]


async def test_a_cancelled_consumer_leaves_the_log_usable(log: AnyLog) -> None:
    async def consume() -> list[Event]:
        return [event async for event in log.subscribe(TOPIC)]

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    appended = await append_n(log, 2)

    async with aclosing(log.subscribe(TOPIC)) as events:
        assert await take(events, 2) == appended
