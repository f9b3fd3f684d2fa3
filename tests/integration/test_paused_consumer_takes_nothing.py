"""A consumer with no servable model (the alias moved to a version it must refuse, it had loaded none
before, and the earlier version is deleted) takes no events on real Redis: it neither reads nor claims,
so the consumer that still serves the earlier version gets every event at its first delivery and nothing
is dead-lettered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.keys import Keys
from domain.services.pipelines import group_name
from tests.support.inference_stack import Stack, drain, pipeline, published_stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


async def consumers_of(stack: Stack, stream: str, group: str) -> dict[str, int]:
    """Each consumer name the group knows, with how many entries it holds pending."""
    rows = await stack.redis.xinfo_consumers(Keys(stack.namespace).stream(stream), group)
    return {row["name"].decode() if isinstance(row["name"], bytes) else row["name"]: int(row["pending"])
            for row in rows}


async def test_a_consumer_with_no_model_neither_reads_nor_claims_while_another_serves(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline(max_deliveries=2))
    serving = stack.service(config, "serving", claim_idle_ms=50)
    assert await serving.warm_up() == 1
    await stack.publish(2, features=["f0", "f1"])  # refused: `serving` keeps v1
    await stack.registry.delete_version("tree", 1)  # gone: a consumer starting now cannot fall back on it
    idle = stack.service(config, "idle", claim_idle_ms=50)  # starts now: it has nothing it may serve

    events = [json.dumps({"entity_id": f"e{i}", "f0": 0.1 * i, "f1": 0.2, "f2": 0.3}) for i in range(20)]
    ids = await stack.producer.append(config.stream, events)
    stop = asyncio.Event()
    task = asyncio.create_task(idle.run(stop))
    await asyncio.sleep(0.6)  # long enough for several read and claim rounds
    stop.set()
    await asyncio.wait_for(task, 10)

    assert (await consumers_of(stack, config.stream, group_name("p1"))).get("idle", 0) == 0
    await drain(serving)
    rows = await stack.signal_rows("p1")
    assert sorted(r["event_id"] for r in rows) == sorted(ids) and {r["model_version"] for r in rows} == {1}
    assert await stack.dead_letters.list("p1", "event") == []
