"""MLPLANE_SIGNALS_MAX_BACKLOG through the container into a consumer and its pause into the pipeline
stats, and the runner keeping a pipeline's signals for its recorder only while the pipeline has a
signals_table (real Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from domain.services.pipelines import group_name
from domain.types.pipelines import PipelineConfig
from domain.types.streams import Signal
from entrypoints.container import Container
from entrypoints.inference_runner import PipelineRunner
from entrypoints.runtime import build_container, open_runtime
from entrypoints.settings import Settings
from tests.support.inference_stack import pipeline

pytestmark = pytest.mark.integration


def signals(count: int) -> list[Signal]:
    return [Signal(f"{i}-0", "e0", 1, 0.5, 1, {"f0": 0.5}, 1.0) for i in range(count)]


def consume(container: Container, config: PipelineConfig, stop: asyncio.Event) -> asyncio.Task[None]:
    """A consumer as the runner builds it (no model is needed while no event comes in)."""
    source = container.event_source(stream=config.stream, group=group_name(config.name), consumer="c1")
    service = container.inference_service(config, source=source, watcher=container.model_watcher(config=config))
    return asyncio.create_task(service.run(stop))


async def eventually(stats: Callable[[], Awaitable[dict[str, Any]]], check: Callable[[dict[str, Any]], bool]) -> None:
    async with asyncio.timeout(10):
        while not check(await stats()):
            await asyncio.sleep(0.05)


async def test_a_recorder_group_is_kept_while_the_table_is_and_the_bound_shows_in_stats(
    redis_url: str, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPLANE_SIGNALS_MAX_BACKLOG", "5")
    env = namespace.removeprefix("mlplane:").rstrip(":")
    settings = Settings(env=env, data_dir=tmp_path, redis_url=redis_url, seed_demo=False)
    async with open_runtime(build_container(settings)) as container:
        try:
            runner = PipelineRunner(container, record_signals=False)  # no recorder in this process
            recorded = pipeline("p1", signals_table="p1_signals")
            await runner._keep_signals(recorded)
            await container.signal_sink().write("p1", signals(10))
            stats = await container.pipelines().stats(recorded)
            assert stats["signals_backlog"] == 10 and stats["paused"] is None  # no consumer holds anything yet
            stop = asyncio.Event()
            consumer = consume(container, recorded, stop)
            try:
                await eventually(lambda: container.pipelines().stats(recorded), lambda s: s["paused"] is not None)
                assert (await container.pipelines().stats(recorded))["paused"] == \
                    "signals recorder is 10 entries behind (limit 5)"
                await runner._keep_signals(pipeline("p1"))  # the table was taken off the pipeline
                await eventually(lambda: container.pipelines().stats(recorded), lambda s: s["paused"] is None)
                assert (await container.pipelines().stats(recorded))["signals_backlog"] == 0
            finally:
                stop.set()
                await asyncio.wait_for(consumer, 5)
        finally:
            redis = container.redis()
            keys = [key async for key in redis.scan_iter(match=f"{namespace}*")]
            if keys:
                await redis.delete(*keys)
