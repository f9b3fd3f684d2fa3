"""RedisWindowStore's in-process copies never change a feature: Redis stays the source of truth."""

from __future__ import annotations

import random
from typing import Any

import pytest

from adapters.redis_streams.keys import Keys
from adapters.redis_streams.windows import RedisWindowStore
from domain.types.streams import ParsedEvent

pytestmark = pytest.mark.integration


def event(n: int, entity: str = "a") -> ParsedEvent:
    return ParsedEvent(f"{1000 + n}-0", entity, float(n), (float(n),))


def values(window: Any) -> list[float]:
    return [row[1][0] for row in window]


async def test_a_window_deleted_and_written_again_behind_a_copy_is_read_from_redis(
        redis_client: Any, namespace: str) -> None:
    mine, other = RedisWindowStore(redis_client, namespace), RedisWindowStore(redis_client, namespace)
    await mine.append("p", [event(1), event(2)], 10, None)  # mine now holds [1, 2]
    await redis_client.delete(Keys(namespace).window("p", "a"))  # expired, say
    await other.append("p", [event(2)], 10, None)  # the same last id as mine holds, another window
    [window] = await mine.append("p", [event(3)], 10, None)
    assert values(window) == [2.0, 3.0]


async def test_redis_holds_at_most_twice_the_window_and_features_see_the_last_n(
        redis_client: Any, namespace: str) -> None:
    store, key = RedisWindowStore(redis_client, namespace), Keys(namespace).window("p", "a")
    record = 4 * 8  # id ms, id seq, ts, one value
    for n in range(1, 101):
        [window] = await store.append("p", [event(n)], 5, None)
        assert values(window) == [float(v) for v in range(max(1, n - 4), n + 1)]
        assert await redis_client.strlen(key) <= 16 + 10 * record


@pytest.mark.parametrize("leftover", ["list", "old layout"])
async def test_a_key_holding_something_else_starts_a_new_window(
        redis_client: Any, namespace: str, leftover: str) -> None:
    key = Keys(namespace).window("p", "a")
    if leftover == "list":
        await redis_client.rpush(key, "x")
    else:
        await redis_client.set(key, (32).to_bytes(4, "little") + bytes(32))  # the earlier 4-byte header
    [window] = await RedisWindowStore(redis_client, namespace).append("p", [event(1)], 5, None)
    assert values(window) == [1.0]


@pytest.mark.parametrize("budget", [0, 200])
async def test_a_tiny_copy_budget_gives_the_same_windows_as_a_large_one(
        redis_client: Any, namespace: str, budget: int) -> None:
    tiny = RedisWindowStore(redis_client, namespace + "tiny:", cache_bytes=budget)
    large = RedisWindowStore(redis_client, namespace + "large:")
    rng = random.Random(3)
    for start in range(0, 400, 20):
        batch = [event(n, rng.choice("abcdefgh")) for n in range(start, start + 20)]
        got, expected = await tiny.append("p", batch, 6, None), await large.append("p", batch, 6, None)
        assert [values(w) for w in got] == [values(w) for w in expected]
