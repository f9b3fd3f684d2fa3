"""A pipeline's signals_table is never a data table (real Redis, real DuckDB): saving one that names
an existing data table is a 422 naming it, and a recorder whose table turns out to be a data table
(created after the save) writes nothing into it, keeps its signals pending and says why."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pyarrow as pa
import pytest
import redis.asyncio as aioredis

from adapters.duckdb.warehouse import DuckDBWarehouse
from adapters.redis_streams.pipeline_store import RedisPipelineStore
from adapters.redis_streams.signal_reader import RedisSignalReader
from adapters.system.clock import SystemClock
from domain.services.pipelines import PipelineService
from domain.services.signal_recorder import SignalRecorder, recorder_group
from domain.types.errors import InvalidSpec
from domain.types.streams import Signal
from tests.support.inference_stack import Stack, pipeline, published_stack

pytestmark = pytest.mark.integration
DATA = pa.table({"uid": ["a", "b"], "f0": [1.0, 2.0], "churned": [0, 1]})  # a training table


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "w.duckdb")


def service(stack: Stack, warehouse: DuckDBWarehouse) -> PipelineService:
    return PipelineService(RedisPipelineStore(stack.redis, stack.namespace), stack.registry, stack.aliases,
                           stack.signals, stack.producer, stack.dead_letters, warehouse=warehouse)


def reader(stack: Stack) -> RedisSignalReader:
    return RedisSignalReader(stack.redis, stack.namespace, "p1", recorder_group("p1"), "c1")


def recorder(stack: Stack, warehouse: DuckDBWarehouse, table: str) -> SignalRecorder:
    return SignalRecorder("p1", table, source=reader(stack), warehouse=warehouse, clock=SystemClock(), block_ms=20)


async def signal_once(stack: Stack) -> None:
    await stack.signals.write("p1", [Signal("1-0", "e1", 1, 0.5, 1, {"f0": 1.0, "f1": 2.0, "f2": 3.0}, 1.0)])


async def test_saving_a_pipeline_whose_signals_table_is_a_data_table_is_refused_naming_it(
        stack: Stack, warehouse: DuckDBWarehouse) -> None:
    await warehouse.append("demo_events", DATA)
    with pytest.raises(InvalidSpec) as refused:
        await service(stack, warehouse).save(pipeline(signals_table="demo_events"))
    assert refused.value.details["field"] == "signals_table"
    assert "demo_events" in refused.value.message and "not a signals table" in refused.value.message
    assert "churned" in refused.value.message  # what makes it someone else's table
    assert [p.name for p in await stack.pipelines.configs()] == []
    assert [c.name for c in (await warehouse.describe("demo_events")).columns] == ["uid", "f0", "churned"]


async def test_a_new_table_or_the_pipelines_own_signals_table_is_accepted(
        stack: Stack, warehouse: DuckDBWarehouse) -> None:
    pipelines = service(stack, warehouse)
    await pipelines.save(pipeline(signals_table="p1_signals"))  # not there yet: the recorder creates it
    await signal_once(stack)
    assert await recorder(stack, warehouse, "p1_signals").process(await reader(stack).read(10, 20)) == 1
    saved = await pipelines.save(pipeline(signals_table="p1_signals", batch_size=10))  # saved again, edited
    assert saved.batch_size == 10


async def test_a_recorder_leaves_a_data_table_created_after_the_save_untouched_and_says_why(
        stack: Stack, warehouse: DuckDBWarehouse, caplog: pytest.LogCaptureFixture) -> None:
    await service(stack, warehouse).save(pipeline(signals_table="demo_events"))  # no such table yet
    await warehouse.append("demo_events", DATA)  # then an ingestion creates it
    await signal_once(stack)
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="domain.services.signal_recorder"):
        task = asyncio.create_task(recorder(stack, warehouse, "demo_events").run(stop))
        async with asyncio.timeout(10):
            while "not a signals table" not in caplog.text:
                await asyncio.sleep(0.05)
        stop.set()
        task.cancel()  # it waits before checking again
        with contextlib.suppress(asyncio.CancelledError):
            await task
    info = await warehouse.describe("demo_events")
    assert [c.name for c in info.columns] == ["uid", "f0", "churned"] and info.row_count == 2
    assert "demo_events" in caplog.text and "not a signals table" in caplog.text
    pending = await stack.redis.xpending(f"{stack.namespace}signals:p1", recorder_group("p1"))
    assert pending["pending"] == 1  # kept for when the table or the config is fixed
