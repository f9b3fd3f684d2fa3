"""Backpressure on real Redis, ONNX serving and the real recorder writing to DuckDB: a pipeline whose
recorder lags past the bound leaves new events unread in the input stream, resumes once the
recorder catches up, and every event ends up as exactly one row."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from adapters.duckdb.warehouse import DuckDBWarehouse
from adapters.redis_streams.pipeline_store import RedisPipelineStore
from adapters.redis_streams.signal_reader import RedisSignalReader
from adapters.redis_streams.signals import RedisSignalSink
from adapters.system.clock import SystemClock
from domain.services.pipelines import PipelineService, group_name
from domain.services.signal_recorder import SignalRecorder, recorder_group
from domain.types.errors import TableNotFound
from domain.types.pipelines import PipelineConfig
from tests.support.inference_stack import Stack, build_stack, pipeline

pytestmark = pytest.mark.integration
TABLE, EVENTS, BOUND, CAP = "p1_signals", 2000, 300, 100


def events(n: int) -> list[str]:
    x = np.random.default_rng(3).normal(size=(n, 3))
    return [json.dumps({"entity_id": f"e{i % 20}", "f0": a, "f1": b, "f2": c})
            for i, (a, b, c) in enumerate(x.tolist())]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def rows(warehouse: DuckDBWarehouse) -> list[str]:
    try:
        return [str(r["event_id"]) for r in (await warehouse.read(TABLE)).to_pylist()]
    except TableNotFound:
        return []


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    stack = build_stack(redis_client, namespace, tmp_path)
    stack.signals = RedisSignalSink(redis_client, namespace, maxlen=CAP)  # trimming at work from the start
    await stack.publish(1)
    return stack


async def test_a_lagging_recorder_pauses_the_pipeline_and_no_event_is_lost(stack: Stack, tmp_path: Path) -> None:
    config = await stack.pipelines.save(pipeline(signals_table=TABLE))
    pipelines = PipelineService(RedisPipelineStore(stack.redis, stack.namespace), stack.registry, stack.aliases,
                                stack.signals, stack.producer, stack.dead_letters)
    reader = RedisSignalReader(stack.redis, stack.namespace, "p1", recorder_group("p1"), "recorder")
    await reader.join()  # as the runner does before the first signal; the recorder is not running yet
    ids = await stack.producer.append(config.stream, events(EVENTS))
    stop, warehouse = asyncio.Event(), DuckDBWarehouse(tmp_path / "w.duckdb")
    recorder = SignalRecorder("p1", TABLE, source=reader, warehouse=warehouse, clock=SystemClock(),
                              batch_size=100, block_ms=20, claim_idle_ms=1000)
    tasks = [asyncio.create_task(stack.service(config, "c1", max_signal_backlog=BOUND, backlog_check_s=0.05).run(stop))]
    try:
        await eventually(lambda: paused(pipelines, config), 30)
        written = await stack.redis.xlen(f"{stack.namespace}signals:p1")
        await asyncio.sleep(0.5)  # paused: nothing more is read or written
        assert await stack.redis.xlen(f"{stack.namespace}signals:p1") == written  # and nothing trimmed
        assert BOUND < written < EVENTS
        assert await stack.producer.backlog(config.stream, group_name("p1")) == {"lag": EVENTS - written, "pending": 0}
        tasks.append(asyncio.create_task(recorder.run(stop)))  # the recorder starts and catches up
        await eventually(lambda: all_recorded(pipelines, config, warehouse), 60)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    table = await rows(warehouse)
    assert len(table) == EVENTS and sorted(table) == sorted(ids)  # each event once
    assert (await pipelines.stats(config))["paused"] is None


async def paused(pipelines: PipelineService, config: PipelineConfig) -> bool:
    return (await pipelines.stats(config))["paused"] is not None


async def all_recorded(pipelines: PipelineService, config: PipelineConfig, warehouse: DuckDBWarehouse) -> bool:
    """Every event read and acked, every signal recorded and acked, every row in the table."""
    stats = await pipelines.stats(config)
    done = stats["lag"] == 0 and stats["pending"] == 0 and stats["signals_backlog"] == 0
    return done and len(await rows(warehouse)) == EVENTS
