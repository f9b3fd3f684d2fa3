"""A replayed event takes its place in its entity's window where it was replayed (its replay entry's id),
not at its original id: its entity has usually moved on since it was dead-lettered, and a window
idempotent by id would skip it. Its keys stay those of its original id; its latency counts from the
replay, not from the time it spent in the dead-letter queue.

Real Redis streams, windows and dead-letter queue; real ONNX serving of a decision tree.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.replay_stream import replay_stream_key
from adapters.redis_streams.windows import RedisWindowStore
from domain.services.dead_letter_replay import DeadLetterService
from domain.services.inference import InferenceService
from domain.services.pipelines import group_name
from domain.types.event_batch import parse_batch
from domain.types.streams import StreamEntry
from tests.support.inference_stack import Stack, drain, pipeline, published_stack

pytestmark = pytest.mark.integration
# The model's three inputs, all over the field x: A's own value shows in `last`, the window's size in `count`.
FEATURES = [{"name": "f0", "field": "x", "agg": "last"}, {"name": "f1", "field": "x", "agg": "sum"},
            {"name": "f2", "field": "x", "agg": "count"}]
HOUR_MS = 3_600_000


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


def service(stack: Stack, entity_key: str, consumer: str = "c1", claim_idle_ms: int = 1000) -> InferenceService:
    config = pipeline("demo", stream="s", entity_key=entity_key, features=FEATURES, window={"events": 5})
    return stack.service(config, consumer, claim_idle_ms=claim_idle_ms)


async def dead_letter_an_hour_old_event(stack: Stack) -> str:
    """Event A of entity e1, added an hour ago, dead-lettered by a pipeline reading the wrong entity key;
    then the config is fixed and e1's later event B is processed. Returns A's id."""
    old = f"{int(time.time() * 1000) - HOUR_MS}-0"
    a = (await stack.redis.xadd(f"{stack.namespace}stream:s", {"data": event(5.0)}, id=old)).decode()
    await drain(service(stack, "uid"))
    await stack.producer.append("s", [event(-5.0)])
    await drain(service(stack, "entity_id"))
    [letter] = await stack.dead_letters.list("demo", "event")
    await DeadLetterService(stack.dead_letters, None).replay(letter.id)
    return a


def event(x: float) -> str:
    return json.dumps({"entity_id": "e1", "x": x})


async def signals(stack: Stack) -> dict[str, dict[str, Any]]:
    return {row["event_id"]: row for row in await stack.signal_rows("demo")}


async def test_a_replayed_event_is_in_its_own_window_and_its_latency_counts_from_the_replay(stack: Stack) -> None:
    a = await dead_letter_an_hour_old_event(stack)
    await drain(service(stack, "entity_id"))

    replayed = (await signals(stack))[a]  # signalled under its original id
    assert replayed["features"] == {"f0": 5.0, "f1": 0.0, "f2": 2.0}  # B then A itself
    assert replayed["latency_ms"] < 60_000  # not the hour it sat in the dead-letter queue
    assert await stack.dead_letters.list("demo") == []


async def test_a_replay_redelivered_after_a_consumer_death_is_in_its_window_once(stack: Stack) -> None:
    a = await dead_letter_an_hour_old_event(stack)
    dead = service(stack, "entity_id", "c1")
    await dead.source_claim()  # joins the replay stream
    held = await dead.collect()
    assert [e.id for e in held] == [a]
    # c1 updates the windows (the first step of a batch), keeping history back to the oldest pending
    # position (A's replay entry: windows must keep what its redelivery needs), then dies before its ack.
    keep_from = await RedisEventSource(stack.redis, stack.namespace, "s", group_name("demo"), "c9").oldest_pending()
    assert keep_from == held[0].replay_id != a
    events, _ = parse_batch(held, "entity_id", dead.config.fields)
    await RedisWindowStore(stack.redis, stack.namespace).append("demo", events, 5, None, keep_from)

    alive = service(stack, "entity_id", "c2", claim_idle_ms=50)
    await asyncio.sleep(0.1)
    [claimed] = await alive.source_claim()
    assert (claimed.id, claimed.deliveries) == (a, 2)
    await alive.process([claimed])
    await stack.producer.append("s", [event(1.0)])
    await drain(alive)

    rows = list((await signals(stack)).values())
    assert rows[-2]["event_id"] == a and rows[-2]["features"] == {"f0": 5.0, "f1": 0.0, "f2": 2.0}
    assert rows[-1]["features"] == {"f0": 1.0, "f1": 1.0, "f2": 3.0}  # B, A once, C
    assert await alive.collect() == [] and await alive.source_claim() == []


async def replay_then_input_at(stack: Stack, at: Callable[[int, int], str]) -> tuple[str, str, list[StreamEntry]]:
    """A replayed and waiting in the replay stream, then C added to the input stream under the id
    `at(ms, seq)` of A's replay entry's id: A's id, C's, and the batch that reads both."""
    a = await dead_letter_an_hour_old_event(stack)
    consumer = service(stack, "entity_id")
    await consumer.process(await consumer.source_claim())  # joins the replay stream
    [(replay_id, _)] = await stack.redis.xrange(replay_stream_key(stack.namespace, group_name("demo")))
    ms, seq = (int(part) for part in replay_id.decode().split("-"))
    c = (await stack.redis.xadd(f"{stack.namespace}stream:s", {"data": event(1.0)}, id=at(ms, seq))).decode()
    batch = await consumer.collect()
    await consumer.process(batch)
    return a, c, batch


async def test_a_replay_read_with_later_events_of_its_entity_is_placed_before_them(stack: Stack) -> None:
    a, c, batch = await replay_then_input_at(stack, lambda ms, seq: f"{ms + 1}-0")
    assert [e.id for e in batch] == [a, c]  # one batch, in the order they reached the group
    rows = await signals(stack)
    assert rows[a]["features"] == {"f0": 5.0, "f1": 0.0, "f2": 2.0}
    assert rows[c]["features"] == {"f0": 1.0, "f1": 1.0, "f2": 3.0}


async def test_a_replay_and_an_input_event_under_the_same_id_are_both_in_the_window(stack: Stack) -> None:
    """The streams number their entries apart: a replay entry's id can be an input event's too."""
    a, c, batch = await replay_then_input_at(stack, lambda ms, seq: f"{ms}-{seq}")
    assert [e.id for e in batch] == [c, a]  # the input event first, as the windows order them
    rows = await signals(stack)
    assert rows[c]["features"] == {"f0": 1.0, "f1": -4.0, "f2": 2.0}
    assert rows[a]["features"] == {"f0": 5.0, "f1": 1.0, "f2": 3.0}  # B, C, A: A not taken for a redelivery
