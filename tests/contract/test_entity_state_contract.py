"""EntityStateStore contract: per-entity cooldowns and previous-signal changes, decided atomically (memory, Redis)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.redis_streams.entity_state import RedisEntityStateStore
from domain.types.rules import Condition, RuleCandidate, RuleInput, label_key
from tests.fakes.inference import InMemoryEntityStateStore

pytestmark = pytest.mark.contract
CHANGED = Condition("label_changed", "==", 1.0)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryEntityStateStore()
    return RedisEntityStateStore(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))


def item(n: int, entity: str = "a", score: float | None = 0.5, label: object = 1, cooldown_s: float = 0.0,
         on_previous: tuple[Condition, ...] = ()) -> RuleInput:
    """Event n of `entity` (at position 1000+n), for which rule "r" may fire."""
    return RuleInput(f"{1000 + n}-0", entity, f"{1000 + n}-0", score, label_key(label),
                     (RuleCandidate("r", cooldown_s, on_previous),))


def changed(n: int, label: object, entity: str = "a") -> RuleInput:
    return item(n, entity, label=label, on_previous=(CHANGED,))


async def test_a_rule_fires_once_per_cooldown_for_each_entity(store: Any) -> None:
    first = await store.fire("p", [item(1, cooldown_s=60), item(2, cooldown_s=60), item(3, "b", cooldown_s=60)], 100.0)
    assert first == [["r"], [], ["r"]]
    assert await store.fire("p", [item(4, cooldown_s=60)], 159.0) == [[]]
    assert await store.fire("p", [item(5, cooldown_s=60)], 160.5) == [["r"]]
    assert await store.fire("other", [item(6, cooldown_s=60)], 160.5) == [["r"]]  # pipelines apart


async def test_calls_racing_on_one_entity_fire_its_rule_once_inside_the_cooldown(store: Any) -> None:
    answers = await asyncio.gather(*(store.fire("p", [item(n, cooldown_s=3600)], 100.0) for n in range(1, 21)))
    assert sorted(answers) == [[[]]] * 19 + [[["r"]]]


async def test_changes_are_measured_against_the_entity_s_previous_signal(store: Any) -> None:
    moved = (Condition("score_change", ">=", 0.5),)
    batch = [item(1, score=0.1, on_previous=moved), item(2, score=0.8, on_previous=moved),
             item(3, "b", score=0.9, on_previous=moved), item(4, score=0.85, on_previous=moved)]
    assert await store.fire("p", batch, 100.0) == [[], ["r"], [], []]  # no previous signal: no change
    labels = [0, 0, "x", "x", 0]
    assert await store.fire("q", [changed(n, label) for n, label in enumerate(labels, 1)], 101.0) == \
        [[], [], ["r"], [], ["r"]]
    assert await store.fire("q", [changed(6, 0), changed(7, 1)], 102.0) == [[], ["r"]]  # across calls
    unknown = (Condition("score_change", "==", 0.0),)  # no score to take a difference with: no change
    assert await store.fire("q", [item(8, score=None, on_previous=unknown)], 103.0) == [["r"]]


async def test_a_late_event_shows_no_change_and_leaves_the_newest_signal(store: Any) -> None:
    """Event 3 was handled first by another consumer; event 2 comes after it: compared with nothing."""
    assert await store.fire("p", [changed(1, "A")], 100.0) == [[]]
    assert await store.fire("p", [changed(3, "B")], 101.0) == [["r"]]
    assert await store.fire("p", [changed(2, "A")], 102.0) == [[]]
    assert await store.fire("p", [changed(4, "B")], 103.0) == [[]]  # B after B: event 2 did not move it back


async def test_a_redelivered_event_fires_its_rules_again_without_restarting_the_cooldown(store: Any) -> None:
    assert await store.fire("p", [item(1, cooldown_s=60)], 100.0) == [["r"]]
    assert await store.fire("p", [item(1, cooldown_s=60)], 130.0) == [["r"]]  # its actions again, same keys
    assert await store.fire("p", [item(2, cooldown_s=60)], 140.0) == [[]]
    assert await store.fire("p", [item(3, cooldown_s=60)], 160.0) == [["r"]]  # 60 s after the first fire


async def test_an_input_with_no_candidate_only_moves_the_previous_signal(store: Any) -> None:
    quiet = RuleInput("1001-0", "a", "1001-0", 0.1, label_key(0), ())
    assert await store.fire("p", [quiet], 100.0) == [[]]
    assert await store.fire("p", [changed(2, 1)], 101.0) == [["r"]]
    assert await store.fire("p", [], 102.0) == []


async def test_a_batch_as_large_as_a_pipeline_allows_is_decided_whole(store: Any) -> None:
    batch = [item(n, f"e{n % 100}", cooldown_s=60) for n in range(10_000)]  # batch_size is at most 10000
    answers = await store.fire("p", batch, 100.0)
    assert [n for n, names in enumerate(answers) if names] == list(range(100))
