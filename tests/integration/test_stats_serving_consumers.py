"""Pipeline stats with two consumers on real Redis, one of which has nothing to serve (the alias moved to a
version whose features do not match, and it had loaded none before): the pipeline is served, so its
stats say the version served and not `paused`, whichever consumer told them last; once no consumer
serves, they say `paused` with the reason and `model_version: null`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.entity_state import RedisEntityStateStore
from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.windows import RedisWindowStore
from adapters.system.clock import SystemClock
from domain.services.inference import InferenceService
from domain.services.pipelines import group_name
from domain.services.serving import ModelWatcher, NoServableModel
from domain.types.pipelines import PipelineConfig
from tests.fakes.task_queue import InMemoryTaskQueue
from tests.support.inference_stack import Stack, pipeline, published_stack, reporting_watcher

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)




def consumer(stack: Stack, config: PipelineConfig, name: str, model: ModelWatcher) -> InferenceService:
    source = RedisEventSource(stack.redis, stack.namespace, config.stream, group_name(config.name), name)
    return InferenceService(config, source=source, windows=RedisWindowStore(stack.redis, stack.namespace),
                            states=RedisEntityStateStore(stack.redis, stack.namespace), signals=stack.signals,
                            dead_letters=stack.dead_letters, queue=InMemoryTaskQueue(), watcher=model,
                            clock=SystemClock(), claim_idle_ms=1000)


async def stats(stack: Stack, config: PipelineConfig) -> dict[str, Any]:
    return dict(await stack.pipelines.stats(config))


async def test_one_consumer_serving_is_enough_for_the_stats_to_say_served(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    serving_model, idle_model = reporting_watcher(stack, config, "serving"), reporting_watcher(stack, config, "idle")
    serving, idle = consumer(stack, config, "serving", serving_model), consumer(stack, config, "idle", idle_model)
    assert await serving.warm_up() == 1
    await stack.publish(2, features=["f0", "f1"])  # refused: `serving` keeps v1, `idle` has nothing
    await stack.registry.delete_version("tree", 1)  # so `idle` has no earlier version to fall back on
    with pytest.raises(NoServableModel) as nothing:
        await idle.warm_up()

    stop = asyncio.Event()
    tasks = [asyncio.create_task(service.run(stop)) for service in (serving, idle)]
    events = [json.dumps({"entity_id": f"e{i}", "f0": 0.1 * i, "f1": 0.2, "f2": 0.3}) for i in range(20)]
    await stack.producer.append(config.stream, events)
    for _ in range(100):
        if (await stats(stack, config))["events_processed"] == 20:
            break
        await asyncio.sleep(0.05)
    await idle_model.check()  # the consumer with nothing to serve tells the stats last
    now = await stats(stack, config)
    assert (now["events_processed"], now["model_version"], now["paused"]) == (20, 1, None)

    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    await serving_model.release()  # as the pipeline runner does when a consumer stops
    await idle_model.check()
    now = await stats(stack, config)
    assert now["model_version"] is None and now["paused"] == nothing.value.message

    await idle_model.release()  # stopped as well: nothing left that says why
    now = await stats(stack, config)
    assert now["model_version"] is None and now["paused"] is None


async def test_the_stats_name_the_highest_version_a_live_consumer_serves(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    old = reporting_watcher(stack, config, "old")
    assert (await old.current()).version == 1
    await stack.publish(2)
    new = reporting_watcher(stack, config, "new")
    assert (await new.current()).version == 2
    await old.release()  # a consumer of v1 that has not reloaded yet would have said 1 last; gone now
    old_again = reporting_watcher(stack, config, "old")
    await stack.aliases.move("tree", "production", 1, reason="test", by="test")
    assert (await old_again.current()).version == 1  # a rollback, taken by one consumer so far
    assert (await stats(stack, config))["model_version"] == 2
    assert (await new.current()).version == 1  # the other follows
    assert (await stats(stack, config))["model_version"] == 1


async def test_the_record_of_a_consumer_that_crashed_goes_after_its_ttl(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    await stack.publish(2, features=["f0", "f1"])  # nothing this pipeline can serve
    await stack.registry.delete_version("tree", 1)  # not even the earlier version
    idle = reporting_watcher(stack, config, "idle")
    with pytest.raises(NoServableModel) as nothing:
        await idle.current()
    await stack.signals.record_serving("p1", "crashed", 1, None, ttl_s=0.05)  # and never renewed
    now = await stats(stack, config)
    assert now["model_version"] == 1 and now["paused"] is None
    await asyncio.sleep(0.15)
    now = await stats(stack, config)
    assert now["model_version"] is None and now["paused"] == nothing.value.message
