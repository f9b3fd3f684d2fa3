"""WindowStore contract: per-entity windows by count and age, idempotent by position (memory and Redis)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from adapters.redis_streams.windows import RedisWindowStore
from domain.types.streams import ParsedEvent
from tests.fakes.inference import InMemoryWindowStore

pytestmark = pytest.mark.contract


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryWindowStore()
    return RedisWindowStore(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))


def event(n: int, entity: str = "a", ts: float | None = None) -> ParsedEvent:
    return ParsedEvent(f"{1000 + n}-0", entity, float(n) if ts is None else ts, (float(n), float(-n)))


def values(window: Any) -> list[float]:
    return [row[1][0] for row in window]


async def test_each_event_sees_its_entity_window_as_of_itself(store: Any) -> None:
    windows = await store.append("p", [event(1), event(2, "b"), event(3), event(4)], 2, None)
    assert [values(w) for w in windows] == [[1.0], [2.0], [1.0, 3.0], [3.0, 4.0]]
    assert list(windows[3][1][1]) == [4.0, -4.0] and windows[3][1][0] == 4.0


async def test_the_time_bound_keeps_only_recent_events(store: Any) -> None:
    windows = await store.append("p", [event(1, ts=0.0), event(2, ts=5.0), event(3, ts=12.0)], 100, 10.0)
    assert [values(w) for w in windows] == [[1.0], [1.0, 2.0], [2.0, 3.0]]


async def test_a_redelivered_event_is_not_added_twice_and_sees_the_same_window(store: Any) -> None:
    first = await store.append("p", [event(1), event(2), event(3)], 5, None)
    again = await store.append("p", [event(2), event(3)], 5, None)
    assert [values(w) for w in again] == [values(first[1]), values(first[2])]
    later = await store.append("p", [event(4)], 5, None)
    assert values(later[0]) == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("batch", [1, 7])
async def test_a_pending_event_keeps_its_window_however_far_its_entity_moves_on(store: Any, batch: int) -> None:
    """Event 3 stays pending (its consumer died) while 40 newer events of its entity are appended:
    redelivered, it still gets events 1..3; once nothing older is pending, history is cut back."""
    await store.append("p", [event(1), event(2), event(3)], 3, None, keep_from=event(1).id)
    for start in range(4, 44, batch):
        await store.append("p", [event(n) for n in range(start, min(start + batch, 44))], 3, None,
                           keep_from=event(3).id)
    [redelivered] = await store.append("p", [event(3)], 3, None, keep_from=event(3).id)
    assert values(redelivered) == [1.0, 2.0, 3.0]
    for n in range(44, 60):  # event 3 acked: the oldest pending is now the newest batch's
        await store.append("p", [event(n)], 3, None, keep_from=event(n).id)
    [late] = await store.append("p", [event(3)], 3, None, keep_from=event(3).id)
    assert len(values(late)) < 3  # its history is gone, as the port allows once it is not pending


async def test_a_replayed_event_takes_its_place_at_its_replay_position_once(store: Any) -> None:
    """An old event replayed from the dead-letter queue after its entity moved on is ordered by its
    replay entry's id (ParsedEvent.position), even when read after later events in one batch."""
    await store.append("p", [event(1), event(2)], 5, None)
    replayed = ParsedEvent("999-0", "a", 0.5, (9.0, -9.0), replay_id=event(3).id)  # older than event 1
    windows = await store.append("p", [event(4), replayed], 5, None)
    assert [values(w) for w in windows] == [[1.0, 2.0, 9.0, 4.0], [1.0, 2.0, 9.0]]
    [again] = await store.append("p", [replayed], 5, None, keep_from=replayed.position)  # redelivered
    assert values(again) == [1.0, 2.0, 9.0]
    assert values((await store.append("p", [event(5)], 5, None))[0]) == [1.0, 2.0, 9.0, 4.0, 5.0]


async def test_a_pending_event_keeps_its_time_window_too(store: Any) -> None:
    await store.append("p", [event(1, ts=0.0), event(2, ts=5.0)], 100, 10.0, keep_from=event(1).id)
    for n in range(3, 40):
        await store.append("p", [event(n, ts=5.0 + n * 10)], 100, 10.0, keep_from=event(2).id)
    [redelivered] = await store.append("p", [event(2, ts=5.0)], 100, 10.0, keep_from=event(2).id)
    assert values(redelivered) == [1.0, 2.0]


async def test_pipelines_do_not_share_windows(store: Any) -> None:
    await store.append("p", [event(1)], 5, None)
    [window] = await store.append("q", [event(2)], 5, None)
    assert values(window) == [2.0]
    await store.clear("p")
    [window] = await store.append("p", [event(3)], 5, None)
    assert values(window) == [3.0]


async def test_two_consumers_serving_one_entity_in_turn_see_one_window(
        store: Any, request: pytest.FixtureRequest) -> None:
    if isinstance(store, InMemoryWindowStore):
        pytest.skip("one in-memory store has no second process to disagree with")
    other = RedisWindowStore(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))
    await store.append("p", [event(1), event(2)], 5, None)
    [second] = await other.append("p", [event(3)], 5, None)  # the first store's cache is now stale
    [third] = await store.append("p", [event(4)], 5, None)
    assert values(second) == [1.0, 2.0, 3.0] and values(third) == [1.0, 2.0, 3.0, 4.0]


def rows(window: Any) -> list[tuple[float, list[float]]]:
    return [(t, list(v)) for t, v in window]


@pytest.mark.parametrize("max_age", [None, 3.0])
async def test_random_batches_with_redeliveries_match_the_reference_and_keep_first_windows(
        store: Any, max_age: float | None) -> None:
    """New events: the same windows as the in-memory reference. Redelivered ones: the window they
    first had, or the newest part of it when older rows are gone, never less than the reference's."""
    if isinstance(store, InMemoryWindowStore):
        pytest.skip("compares the Redis store with the in-memory reference")
    reference, rng = InMemoryWindowStore(), random.Random(7)
    produced: list[ParsedEvent] = []
    first: dict[str, list[tuple[float, list[float]]]] = {}
    for _ in range(12):
        fresh = [event(len(produced) + i, rng.choice("abc"), ts=float(len(produced) + i) / 2) for i in range(8)]
        produced += fresh
        redelivered = sorted(rng.sample(produced, 3), key=lambda e: int(e.id.split("-")[0]))
        batch = redelivered + fresh if rng.random() < 0.5 else fresh + redelivered  # both orders
        expected = await reference.append("p", batch, 4, max_age)
        for e, got, ref in zip(batch, await store.append("p", batch, 4, max_age), expected, strict=True):
            if e.id not in first:
                assert rows(got) == rows(ref)
                first[e.id] = rows(got)
            else:
                assert rows(got) == first[e.id][len(first[e.id]) - len(got):] and len(got) >= len(ref)
