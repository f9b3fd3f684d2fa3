"""Rule state shared by consumers on real Redis: a rule fires once per entity per cooldown whichever
consumer handles the entity's events, even when several handle them at the same moment."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.keys import Keys
from tests.fakes.task_queue import InMemoryTaskQueue
from tests.support.inference_stack import Stack, drain, pipeline, published_stack

pytestmark = pytest.mark.integration
ALWAYS = {"name": "always", "when": [{"on": "score", "op": ">=", "value": 0}], "actions": ["alert"],
          "cooldown_s": 3600}


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


def event(entity: str, x: float) -> str:
    return json.dumps({"entity_id": entity, "f0": x, "f1": -x, "f2": 0.5})


async def test_consumers_handling_one_entity_at_once_fire_its_rule_once_per_cooldown(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline(
        batch_size=1, rules=[ALWAYS], actions=[{"name": "alert", "type": "publish", "stream": "alerts"}]))
    queue = InMemoryTaskQueue()  # shared: every consumer's enqueued actions in one list
    consumers = [stack.service(config, f"c{n}", queue=queue) for n in range(3)]
    for service in consumers:
        await service.warm_up()
    for entity in ("a", "b", "c", "d", "e"):
        await stack.producer.append(config.stream, [event(entity, 0.1 * n) for n in range(3)])
        batches = [await service.collect() for service in consumers]  # one event of the entity each
        await asyncio.gather(*(service.process(batch) for service, batch in zip(consumers, batches, strict=True)))
    fired = Counter(task.payload["body"]["entity"] for task in queue.tasks)
    assert fired == dict.fromkeys("abcde", 1)


async def test_a_rule_state_an_older_release_wrote_keeps_its_cooldown_and_previous_label(stack: Stack) -> None:
    changed = {"name": "moved", "when": [{"on": "label_changed", "op": "==", "value": 1}], "actions": ["alert"]}
    config = await stack.pipelines.save(pipeline(
        rules=[{**ALWAYS, "cooldown_s": 60}, changed], actions=[{"name": "alert", "type": "publish", "stream": "x"}]))
    old = {"score": 0.9, "label": 1, "fired_at": {"always": time.time()}}  # as the earlier adapter wrote it
    await stack.redis.hset(Keys(stack.namespace).entity_state("p1"), "a", json.dumps(old))
    queue = InMemoryTaskQueue()
    service = stack.service(config, "c1", queue=queue)
    await stack.producer.append(config.stream, [json.dumps({"entity_id": "a", "f0": 2, "f1": 2, "f2": 0})])
    await drain(service)
    [row] = await stack.signal_rows("p1")
    assert row["label"] == 1 and queue.tasks == []  # inside the cooldown, and the same label as before
