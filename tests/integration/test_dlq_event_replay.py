"""Replaying an event dead letter reaches only the pipeline that parked it, under the event's original
id: another pipeline on the same stream sees nothing new, so no side effect runs twice.

Real Redis streams, dead-letter queue and arq `actions` queue (the queued job ids are the action keys).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.arq.task_queue import ArqTaskQueue, queue_key
from domain.services.dead_letter_replay import DeadLetterService
from domain.services.inference import ACTIONS_QUEUE, InferenceService
from domain.types.errors import NotFound
from tests.support.inference_stack import Stack, actions_queue, drain, pipeline, published_stack

pytestmark = pytest.mark.integration
ALWAYS = [{"name": "any", "when": [{"on": "score", "op": ">=", "value": 0.0}], "actions": ["hook"]}]
HOOK = [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}]


@dataclass
class Rig:
    stack: Stack
    queue: ArqTaskQueue
    replays: DeadLetterService

    def service(self, name: str, entity_key: str) -> InferenceService:
        config = pipeline(name, stream="shared", entity_key=entity_key, rules=ALWAYS, actions=HOOK)
        return self.stack.service(config, "c1", queue=self.queue, claim_idle_ms=1000)

    async def queued(self) -> set[str]:
        """The action keys waiting in the actions queue (arq job ids, less the namespace)."""
        ns = self.stack.namespace
        ids = await self.stack.redis.zrange(queue_key(ns, ACTIONS_QUEUE), 0, -1)
        return {i.decode().removeprefix(ns) for i in ids}


@pytest.fixture
async def rig(redis_url: str, redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> AsyncIterator[Rig]:
    stack = await published_stack(redis_client, namespace, tmp_path)
    async with actions_queue(redis_url, namespace) as queue:
        yield Rig(stack, queue, DeadLetterService(stack.dead_letters, queue))


async def test_a_replayed_event_letter_reaches_only_its_pipeline_under_its_original_key(rig: Rig) -> None:
    demo, p2 = rig.service("demo", "entity_id"), rig.service("p2", "uid")
    [event_id] = await rig.stack.producer.append("shared", [json.dumps({"uid": "u1", "f0": 1, "f1": 2, "f2": 3})])
    await drain(demo, p2)
    [letter] = await rig.stack.dead_letters.list("demo", "event")  # no entity_id for demo
    assert letter.key == f"demo:{event_id}" and await rig.queued() == {f"p2:{event_id}:hook"}

    assert (await rig.replays.replay(letter.id)).key == f"demo:{event_id}"
    with pytest.raises(NotFound):
        await rig.replays.replay(letter.id)  # replayed once, never twice
    await drain(demo, p2)

    assert await rig.queued() == {f"p2:{event_id}:hook"}  # p2 saw no second event
    assert [r["event_id"] for r in await rig.stack.signal_rows("p2")] == [event_id]
    [again] = await rig.stack.dead_letters.list("demo", "event")  # still malformed for demo: same key
    assert again.key == letter.key and again.payload["id"] == event_id
    assert await rig.stack.redis.xlen(f"{rig.stack.namespace}stream:shared") <= 1


async def test_a_bulk_replay_after_a_fix_acts_once_under_the_original_event_ids(rig: Rig) -> None:
    demo, p2 = rig.service("demo", "entity_id"), rig.service("p2", "uid")
    events = [json.dumps({"uid": f"u{i}", "f0": i, "f1": 2, "f2": 3}) for i in range(3)]
    ids = await rig.stack.producer.append("shared", events)
    await drain(demo, p2)
    assert len(await rig.stack.dead_letters.list("demo")) == 3

    fixed = rig.service("demo", "uid")  # the pipeline's config now reads `uid`: same consumer group
    assert await rig.replays.replay_many("demo", "event") == 3
    await drain(fixed, p2)

    assert await rig.stack.dead_letters.list("demo") == []
    assert sorted(r["event_id"] for r in await rig.stack.signal_rows("demo")) == sorted(ids)
    assert await rig.queued() == {f"{p}:{i}:hook" for p in ("demo", "p2") for i in ids}
    assert len(await rig.stack.signal_rows("p2")) == 3
    assert await fixed.collect() == [] and await fixed.source_claim() == []  # the replays were acked


async def test_a_replayed_event_left_pending_by_a_dead_consumer_is_claimed_under_its_original_id(
        rig: Rig) -> None:
    demo = rig.service("demo", "entity_id")
    [event_id] = await rig.stack.producer.append("shared", [json.dumps({"uid": "u1", "f0": 1, "f1": 2, "f2": 3})])
    await drain(demo)
    [letter] = await rig.stack.dead_letters.list("demo")
    await rig.replays.replay(letter.id)
    dead = rig.service("demo", "uid")
    await dead.source_claim()  # joins the replay stream
    [held] = await dead.collect()  # then dies before processing it
    assert held.id == event_id

    alive = rig.stack.service(dead.config, "c2", queue=rig.queue, claim_idle_ms=50)
    await asyncio.sleep(0.1)
    [claimed] = await alive.source_claim()
    assert (claimed.id, claimed.deliveries) == (event_id, 2)
    await alive.process([claimed])
    assert await rig.queued() == {f"demo:{event_id}:hook"}
    assert await alive.collect() == [] and await alive.source_claim() == []
