"""Streaming inference on real Redis with ONNX Runtime serving: signals, poison events, hot reload."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.keys import Keys
from domain.services.inference import InferenceService
from domain.services.pipelines import group_name
from domain.types.errors import InvalidSpec
from tests.support.inference_stack import Stack, pipeline, published_stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


def events(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return [json.dumps({"entity_id": f"e{i % 20}", "f0": a, "f1": b, "f2": c})
            for i, (a, b, c) in enumerate(x.tolist())]


async def run_until(service: InferenceService, stack: Stack, count: int, timeout: float = 30.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while len({r["event_id"] for r in await stack.signal_rows(service.config.name)}) < count:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_every_event_gets_a_signal_and_poison_events_are_dead_lettered(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    good = events(300)
    poison = ["{oops", '{"f0": 1}', '{"entity_id": "a", "f0": "x"}']
    await stack.producer.append(config.stream, [*good[:150], *poison])
    # Any Redis client may XADD bytes that are not text: one such entry must not stop the reads.
    await stack.redis.xadd(Keys(stack.namespace).stream(config.stream), {"data": b'{"entity_id": "\xff"}'})
    await stack.producer.append(config.stream, good[150:])
    await run_until(stack.service(config, "c1"), stack, 300)
    rows = await stack.signal_rows("p1")
    assert len(rows) == 300 and {r["model_version"] for r in rows} == {1}
    assert {r["label"] for r in rows} <= {0, 1} and all(0.0 <= r["score"] <= 1.0 for r in rows)
    letters = await stack.dead_letters.list("p1", "event")
    assert len(letters) == 4 and all(d.cause for d in letters)
    unreadable = [d for d in letters if "not UTF-8" in d.cause]
    assert len(unreadable) == 1 and unreadable[0].payload["raw"] == '{"entity_id": "\\xff"}'
    stats = (await stack.pipelines.get("p1"))["stats"]
    assert stats["events_processed"] == 300 and stats["pending"] == 0 and stats["dlq"] == 4
    assert stats["model_version"] == 1 and stats["p99_ms"] is not None


async def test_an_alias_moved_during_a_replay_drops_nothing_and_signals_carry_the_version(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline(batch_size=100))
    service = stack.service(config, "c1")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    ids = await stack.producer.append(config.stream, events(2000))
    async with asyncio.timeout(30):
        while len(await stack.signal_rows("p1")) < 500:
            await asyncio.sleep(0.01)
    await stack.publish(2, seed=5, flip=True)
    ids += await stack.producer.append(config.stream, events(2000, seed=2))
    async with asyncio.timeout(30):
        while len(await stack.signal_rows("p1")) < 4000:
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    rows = await stack.signal_rows("p1")
    assert [r["event_id"] for r in rows] == ids  # one signal each, in stream order
    versions = [r["model_version"] for r in rows]
    assert versions == sorted(versions) and set(versions) == {1, 2}
    assert versions[-1] == 2


async def test_an_incompatible_version_is_refused_while_the_previous_keeps_serving(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    service = stack.service(config, "c1")
    await stack.producer.append(config.stream, events(50))
    await run_until(service, stack, 50)
    await stack.publish(2, features=["f0", "f1", "other"])
    await stack.producer.append(config.stream, events(50, seed=3))
    await run_until(service, stack, 100)
    assert {r["model_version"] for r in await stack.signal_rows("p1")} == {1}
    [refused] = await stack.events.read("pipeline:p1")
    assert refused.type == "model_refused" and refused.data["version"] == 2


async def test_saving_a_pipeline_with_features_the_model_lacks_is_refused(stack: Stack) -> None:
    with pytest.raises(InvalidSpec):
        await stack.pipelines.save(pipeline(features=["f0", "f1", "nope"]))


async def test_trimming_keeps_what_is_still_pending(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    service = stack.service(config, "c1")
    await stack.producer.append(config.stream, events(20))
    entries = await service.collect()
    await service.process(entries[:10])  # the rest stay pending, as if the consumer died
    await stack.service(config, "c2").trim_stream()
    assert await stack.redis.xlen(f"{stack.namespace}stream:{config.stream}") == 10
    info = await stack.producer.backlog(config.stream, group_name("p1"))
    assert info["pending"] == 10


async def test_a_stored_config_that_no_longer_reads_is_left_out_not_blocking_the_others(stack: Stack) -> None:
    await stack.pipelines.save(pipeline("good"))
    broken = {**pipeline("old").to_dict(), "batch_size": "many"}  # as an older release or a hand edit left it
    await stack.redis.hset(Keys(stack.namespace).pipelines(), "old", json.dumps(broken))
    assert [c.name for c in await stack.pipelines.configs()] == ["good"]
    assert [p["name"] for p in await stack.pipelines.list()] == ["good"]
