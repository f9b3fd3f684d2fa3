"""The pipeline runner's periodic trim also forgets the consumer names recorder processes left on
the recorder's group of the signals stream, never a name still holding a signal (real Redis)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.redis_streams.keys import text
from adapters.redis_streams.signal_reader import RedisSignalReader
from domain.services.pipelines import group_name
from domain.services.signal_recorder import recorder_group
from domain.types.streams import Signal
from entrypoints.container import Container
from entrypoints.inference_runner import PipelineRunner
from entrypoints.runtime import build_container, open_runtime
from entrypoints.settings import Settings
from tests.support.inference_stack import pipeline

pytestmark = pytest.mark.integration
GROUP = recorder_group("p1")


@pytest.fixture
async def container(redis_url: str, namespace: str, tmp_path: Path) -> AsyncIterator[Container]:
    """Trims every 50 ms, and a recorder name counts as gone after 50 ms idle instead of an hour."""
    env = namespace.removeprefix("mlplane:").rstrip(":")
    settings = Settings(env=env, data_dir=tmp_path, redis_url=redis_url, seed_demo=False,
                        inference_trim_every_s=0.05)
    async with open_runtime(build_container(settings)) as container:
        container.signal_reader.add_kwargs(forget_idle_ms=50)
        try:
            yield container
        finally:
            redis = container.redis()
            keys = [key async for key in redis.scan_iter(match=f"{namespace}*")]
            if keys:
                await redis.delete(*keys)


def recorder(container: Container, name: str) -> RedisSignalReader:
    reader: RedisSignalReader = container.signal_reader(pipeline="p1", group=GROUP, consumer=name)
    return reader


async def consumers(container: Container, namespace: str) -> dict[str, int]:
    rows = await container.redis().xinfo_consumers(f"{namespace}signals:p1", GROUP)
    return {text(row["name"]): int(row["pending"]) for row in rows}


async def test_the_periodic_trim_forgets_gone_recorder_names_and_keeps_one_holding_a_signal(
    container: Container, namespace: str
) -> None:
    assert await recorder(container, "first").forget_gone_consumers() == 0  # no stream, no group yet: nothing
    await container.signal_sink().write("p1", [Signal(f"{i}-0", "e0", 1, 0.5, 1, {"f0": 0.5}, 1.0) for i in (1, 2)])
    gone, crashed = recorder(container, "gone-host-1"), recorder(container, "crashed-host-2")
    await gone.ack([e.id for e in await gone.read(1, 0)])  # recorded its signal, then its process ended
    held = await crashed.read(1, 0)  # died holding a signal: its name stays until that is claimed
    await asyncio.sleep(0.1)

    config = pipeline("p1", signals_table="p1_signals")
    source = container.event_source(stream=config.stream, group=group_name("p1"), consumer="c1")
    service = container.inference_service(config, source=source, watcher=container.model_watcher(config=config))
    trimming = asyncio.create_task(PipelineRunner(container, record_signals=False)._trim_forever(service))
    try:
        async with asyncio.timeout(10):
            while await consumers(container, namespace) != {"crashed-host-2": 1}:
                await asyncio.sleep(0.05)
            live = recorder(container, "live-host-3")
            assert [e.id for e in await live.claim_stale(0, 10)] == [e.id for e in held]
            await live.ack([e.id for e in held])
            while "crashed-host-2" in await consumers(container, namespace):
                await asyncio.sleep(0.05)
    finally:
        trimming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trimming
