"""Retention never deletes the version a pipeline is serving right now (real Redis, real registry, ONNX
serving): a pipeline that refused its alias's new version keeps serving the old one, which the plan
keeps ("served by pipeline ..."), apply leaves, and a DELETE refuses with a 409, until the pipeline
serves another version."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.onnx.model_server import OnnxModelServer
from adapters.redis_streams.pipeline_store import RedisPipelineStore
from adapters.system.clock import SystemClock
from domain.services.retention import RetentionService, VersionInUse
from domain.services.served_versions import PipelineServedVersions
from domain.services.serving import ModelWatcher
from domain.types.lifecycle import RetentionPolicy
from tests.fakes.model_backend import MajorityModelBackend
from tests.support.inference_stack import Stack, pipeline, published_stack, reporting_watcher

pytestmark = pytest.mark.integration
KEEP_ONLY_THE_NEWEST = RetentionPolicy(keep_last=1, keep_days=0, alias_days=0)


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


def retention(stack: Stack) -> RetentionService:
    """Wired as entrypoints/container.py wires it."""
    served = PipelineServedVersions(RedisPipelineStore(stack.redis, stack.namespace), stack.signals)
    return RetentionService(stack.artifacts, stack.registry, stack.aliases, SystemClock(), KEEP_ONLY_THE_NEWEST,
                            timedelta(0), served=served)


async def versions(stack: Stack) -> list[int]:
    return [m.version for m in await stack.registry.list_versions("tree")]


async def test_the_version_a_pipeline_still_serves_is_kept_until_it_serves_another(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    watcher = ModelWatcher(config, stack.registry, stack.aliases, OnnxModelServer(), MajorityModelBackend(),
                           stack.events, SystemClock(), check_every_s=0.0, signals=stack.signals, holder="c1")
    assert (await watcher.current()).version == 1
    for version in (2, 3):  # production moves on to versions trained on other features: refused
        await stack.publish(version, features=["f0", "f1"])
        assert (await watcher.current()).version == 1
    service = retention(stack)

    plan = await service.plan("tree")
    assert plan.delete == (2,) and plan.keep == (1, 3)
    assert plan.reasons[1] == "served by pipeline p1"
    applied, _orphans = await service.apply("tree")
    assert applied.delete == (2,) and await versions(stack) == [1, 3]
    with pytest.raises(VersionInUse, match="served by pipeline p1"):
        await service.delete_version("tree", 1)
    assert not await stack.artifacts.list("models/tree/versions/1/deleting")  # backed out cleanly

    await stack.publish(4)  # a version it can serve: v1 is free to go
    assert (await watcher.current()).version == 4
    applied, _orphans = await service.apply("tree")
    assert applied.delete == (1, 3) and await versions(stack) == [4]


async def test_every_version_live_consumers_serve_is_kept_not_only_the_highest(stack: Stack) -> None:
    """Mid-rollback one consumer serves v1 again while another still serves v2: both are in use."""
    config = await stack.pipelines.save(pipeline())
    first = reporting_watcher(stack, config, "c1")
    assert (await first.current()).version == 1
    await stack.publish(2)
    second = reporting_watcher(stack, config, "c2")
    assert (await second.current()).version == 2
    await stack.publish(3)  # production on v3, which no consumer has loaded yet

    plan = await retention(stack).plan("tree")

    assert plan.delete == () and plan.keep == (1, 2, 3)
    assert plan.reasons[1] == plan.reasons[2] == "served by pipeline p1"
    assert (await stack.signals.stats("p1"))["model_versions"] == [1, 2]
