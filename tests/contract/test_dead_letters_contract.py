"""DeadLetters contract: park (idempotent by kind and key), list, get, remove, count (memory and Redis)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.redis_streams.dead_letters import RedisDeadLetters
from domain.types.errors import NotFound
from tests.fakes.dead_letters import InMemoryDeadLetters

pytestmark = pytest.mark.contract


@pytest.fixture(params=["memory", "redis"])
def dlq(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryDeadLetters()
    return RedisDeadLetters(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))


@pytest.fixture(params=["memory", "redis"])
def capped(request: pytest.FixtureRequest) -> Any:
    """A queue that keeps 3 letters."""
    if request.param == "memory":
        return InMemoryDeadLetters(max_letters=3)
    return RedisDeadLetters(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"), 3)


async def test_parked_items_keep_cause_attempts_and_payload(dlq: Any) -> None:
    payload = {"body": {"score": 0.123456789012345}}
    letter = await dlq.park("action", "p1", "p1:1-0:hook", "webhook answered 400", 3, payload)
    fetched = await dlq.get(letter.id)
    assert (fetched.kind, fetched.pipeline, fetched.key, fetched.cause, fetched.attempts) == (
        "action", "p1", "p1:1-0:hook", "webhook answered 400", 3)
    assert fetched.payload == {"body": {"score": 0.123456789012345}}


async def test_parking_the_same_key_twice_keeps_one_letter(dlq: Any) -> None:
    first = await dlq.park("event", "p1", "p1:1-0", "bad JSON", 1, {"raw": "{"})
    second = await dlq.park("event", "p1", "p1:1-0", "bad JSON", 2, {"raw": "{"})
    assert first.id == second.id
    assert [d.attempts for d in await dlq.list("p1")] == [2]


async def test_list_filters_by_pipeline_and_kind_and_remove_forgets(dlq: Any) -> None:
    a = await dlq.park("event", "p1", "k1", "c", 1, {})
    await dlq.park("action", "p1", "k2", "c", 1, {})
    await dlq.park("event", "p2", "k3", "c", 1, {})
    assert [d.key for d in await dlq.list("p1", "event")] == ["k1"]
    assert await dlq.count("p1") == 2
    await dlq.remove(a.id)
    await dlq.remove(a.id)  # idempotent
    assert await dlq.count("p1") == 1
    with pytest.raises(NotFound):
        await dlq.get(a.id)


async def test_listing_a_flooded_queue_pages_to_the_oldest_matches(dlq: Any) -> None:
    """1,200 poison events, then two actions: the actions are found past the first pages, oldest first."""
    for i in range(1200):
        await dlq.park("event", "p1", f"e{i}", "bad JSON", 1, {})
    await dlq.park("action", "p1", "a1", "400", 3, {})
    await dlq.park("action", "p1", "a2", "400", 3, {})
    assert [d.key for d in await dlq.list("p1", "action", limit=5)] == ["a1", "a2"]
    assert [d.key for d in await dlq.list("p1", limit=3)] == ["e0", "e1", "e2"]
    assert [d.key for d in await dlq.list(None, "action", limit=1)] == ["a1"]


async def test_past_its_limit_the_queue_drops_its_oldest_letters(capped: Any) -> None:
    first = await capped.park("event", "p1", "e1", "bad JSON", 1, {})
    await capped.park("action", "p2", "a1", "400", 3, {})
    await capped.park("event", "p1", "e2", "bad JSON", 1, {})
    await capped.park("event", "p1", "e1", "bad JSON", 2, {})  # parked again: the newest now, still one letter
    assert [d.key for d in await capped.list()] == ["a1", "e2", "e1"]
    await capped.park("event", "p1", "e3", "bad JSON", 1, {})
    await capped.park("event", "p1", "e4", "bad JSON", 1, {})
    assert [d.key for d in await capped.list()] == ["e1", "e3", "e4"]
    assert (await capped.count("p1"), await capped.count("p2")) == (3, 0)  # per-pipeline views follow
    assert (await capped.get(first.id)).key == "e1"
    dropped = await capped.park("event", "p1", "e2", "bad JSON", 5, {})  # a dropped key parks as a new letter
    assert dropped.attempts == 5 and [d.key for d in await capped.list()] == ["e3", "e4", "e2"]
