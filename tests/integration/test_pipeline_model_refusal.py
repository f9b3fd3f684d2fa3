"""An alias moved to a version whose features do not match the pipeline (real Redis, real registry,
ONNX serving): the refusal is logged as a warning with the reason, the pipeline keeps serving the
version it has; a consumer with none loaded (a restart) serves the version the alias pointed to most
recently before that is compatible and still exists; with none left (deleted) its stats say `paused`
with the true reason and `model_version: null`, until the alias points to a version it can serve."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from domain.services.serving import NoServableModel
from domain.types.pipelines import PipelineConfig
from tests.support.inference_stack import Stack, pipeline, published_stack, reporting_watcher

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)




async def stats(stack: Stack, config: PipelineConfig) -> dict[str, Any]:
    return dict(await stack.pipelines.stats(config))


async def test_an_incompatible_alias_is_refused_loudly_and_a_pipeline_left_with_nothing_says_why(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    config = await stack.pipelines.save(pipeline())
    first = reporting_watcher(stack, config, "c1")
    assert (await first.current()).version == 1
    assert (await stats(stack, config))["model_version"] == 1

    with caplog.at_level(logging.WARNING, logger="domain.services.serving"):
        await stack.publish(2, features=["f0", "f1"])  # production -> v2, trained on 2 features
        assert (await first.current()).version == 1  # kept, as documented
    refusals = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(refusals) == 1 and "v2" in refusals[0].getMessage() and "do not match" in refusals[0].getMessage()
    assert "keeps serving v1" in refusals[0].getMessage()
    assert (await stats(stack, config))["paused"] is None  # it still processes events

    await stack.registry.delete_version("tree", 1)  # retention, then a restart
    await first.release()  # the consumer stops (the pipeline runner releases its watcher)
    restarted = reporting_watcher(stack, config, "c2")
    with pytest.raises(NoServableModel) as nothing:
        await restarted.current()
    assert "points to v2" in nothing.value.message and "no servable version yet" not in nothing.value.message
    assert "['f0', 'f1']" in nothing.value.message and "['f0', 'f1', 'f2']" in nothing.value.message
    now = await stats(stack, config)
    assert now["model_version"] is None and now["paused"] == nothing.value.message

    await stack.publish(3)  # a version it can serve
    assert (await restarted.current()).version == 3
    now = await stats(stack, config)
    assert now["model_version"] == 3 and now["paused"] is None


async def refusals_of(stack: Stack, config: PipelineConfig) -> list[dict[str, Any]]:
    return [e.data for e in await stack.events.read(f"pipeline:{config.name}") if e.type == "model_refused"]


async def test_a_restarted_consumer_serves_the_alias_s_earlier_compatible_version(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    config = await stack.pipelines.save(pipeline())
    await stack.publish(2, features=["f0", "f1"])  # production -> v2: refused; v1 is still stored
    restarted = reporting_watcher(stack, config, "c1")  # a consumer (re)started now: nothing loaded
    with caplog.at_level(logging.WARNING, logger="domain.services.serving"):
        assert (await restarted.current()).version == 1
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "points to v2" in warning and "do not match" in warning and "serves v1 instead" in warning
    [refused] = await refusals_of(stack, config)
    assert refused["version"] == 2 and refused["serving"] == 1
    now = await stats(stack, config)
    assert now["model_version"] == 1 and now["paused"] is None

    await stack.publish(3, features=["f1", "f2"])  # refused as well: it keeps the version it serves
    assert (await restarted.current()).version == 1
    await stack.publish(4)  # the alias moves to a version it can serve: taken
    assert (await restarted.current()).version == 4
    assert (await stats(stack, config))["model_version"] == 4


async def test_the_fallback_skips_earlier_versions_that_do_not_match_or_are_gone(stack: Stack) -> None:
    config = await stack.pipelines.save(pipeline())
    await stack.publish(2)
    await stack.publish(3, features=["f0", "f1"])
    await stack.aliases.move("tree", "production", 1, reason="rollback", by="test")
    await stack.aliases.move("tree", "production", 3, reason="test", by="test")  # history: 1, 2, 3, 1, 3
    await stack.publish(4, features=["f0", "f2"])  # history: ..., 4; refused
    await stack.registry.delete_version("tree", 1)
    assert (await reporting_watcher(stack, config, "c1").current()).version == 2  # not v3 (features), nor v1 (gone)
