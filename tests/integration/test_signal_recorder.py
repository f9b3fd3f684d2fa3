"""The signals_table recorder on real Redis and a real DuckDB file: one row per event id, whatever
is redelivered, and entries acked only after the write."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.duckdb.warehouse import DuckDBWarehouse
from adapters.redis_streams.signal_reader import RedisSignalReader
from adapters.redis_streams.signals import RedisSignalSink
from adapters.system.clock import SystemClock
from domain.services.signal_recorder import SignalRecorder, recorder_group
from domain.types.errors import TableNotFound, TransientError
from domain.types.streams import Signal, StreamEntry

pytestmark = pytest.mark.integration
TABLE = "p1_signals"


def signals(ids: range, score: float = 0.25, features: tuple[str, ...] = ("f0", "f1")) -> list[Signal]:
    return [Signal(f"{i}-0", f"e{i % 3}", 1, score, i % 2, {f: float(i) for f in features}, 1.5) for i in ids]


def recorder(redis: aioredis.Redis, namespace: str, warehouse: DuckDBWarehouse, consumer: str) -> SignalRecorder:
    source = RedisSignalReader(redis, namespace, "p1", recorder_group("p1"), consumer)
    return SignalRecorder("p1", TABLE, source=source, warehouse=warehouse, clock=SystemClock(), batch_size=40,
                          block_ms=20, claim_idle_ms=100)


async def rows(warehouse: DuckDBWarehouse) -> list[dict[str, object]]:
    return (await warehouse.read(TABLE)).sort_by("event_id").to_pylist()


async def pending(redis: aioredis.Redis, namespace: str) -> int:
    return int((await redis.xpending(f"{namespace}signals:p1", recorder_group("p1")))["pending"])


async def count(warehouse: DuckDBWarehouse) -> int:
    try:
        return (await warehouse.describe(TABLE)).row_count
    except TableNotFound:
        return 0


class AckLost:
    """The real reader, except that the connection drops right before XACK (a crash after the write)."""

    def __init__(self, inner: RedisSignalReader) -> None:
        self.inner = inner

    async def read(self, count: int, block_ms: int) -> Sequence[StreamEntry]:
        return await self.inner.read(count, block_ms)

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]:
        return await self.inner.claim_stale(min_idle_ms, count)

    async def ack(self, ids: Sequence[str]) -> None:
        raise TransientError("connection lost before XACK")


async def test_signals_written_twice_give_one_row_each_and_everything_is_acked(
    redis_client: aioredis.Redis, namespace: str, tmp_path: Path
) -> None:
    sink, warehouse = RedisSignalSink(redis_client, namespace), DuckDBWarehouse(tmp_path / "w.duckdb")
    await sink.write("p1", signals(range(100, 200)))
    await sink.write("p1", signals(range(100, 130), score=0.75))  # a redelivered batch signalled again
    stop = asyncio.Event()
    task = asyncio.create_task(recorder(redis_client, namespace, warehouse, "c1").run(stop))
    try:
        async with asyncio.timeout(20):
            while await count(warehouse) < 100 or await pending(redis_client, namespace):
                await asyncio.sleep(0.05)
            await sink.write("p1", signals(range(150, 210)))  # half of them are already in the table
            while await count(warehouse) < 110 or await pending(redis_client, namespace):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    table = await rows(warehouse)
    assert [r["event_id"] for r in table] == [f"{i}-0" for i in range(100, 210)]
    first = table[0]
    assert first["score"] == 0.25 and first["label"] == "0" and first["f_f0"] == 100.0
    assert first["entity"] == "e1" and first["model_version"] == 1 and first["latency_ms"] == 1.5
    assert first["written_at"] is not None


async def test_a_batch_written_but_not_acked_is_claimed_by_another_consumer_and_adds_nothing(
    redis_client: aioredis.Redis, namespace: str, tmp_path: Path
) -> None:
    sink, warehouse = RedisSignalSink(redis_client, namespace), DuckDBWarehouse(tmp_path / "w.duckdb")
    await sink.write("p1", signals(range(0, 30)))
    dying_source = AckLost(RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "dies"))
    dying = SignalRecorder("p1", TABLE, source=dying_source, warehouse=warehouse, clock=SystemClock())
    with pytest.raises(TransientError):
        await dying.process(await dying_source.read(100, 0))
    assert await count(warehouse) == 30 and await pending(redis_client, namespace) == 30
    await asyncio.sleep(0.15)  # past claim_idle_ms: the survivor takes the dead consumer's entries
    survivor_source = RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "survivor")
    survivor = SignalRecorder("p1", TABLE, source=survivor_source, warehouse=warehouse, clock=SystemClock())
    claimed = await survivor_source.claim_stale(100, 100)
    assert len(claimed) == 30
    assert await survivor.process(claimed) == 0
    assert await pending(redis_client, namespace) == 0 and await count(warehouse) == 30


async def test_a_feature_added_later_becomes_a_new_column(
    redis_client: aioredis.Redis, namespace: str, tmp_path: Path
) -> None:
    sink, warehouse = RedisSignalSink(redis_client, namespace), DuckDBWarehouse(tmp_path / "w.duckdb")
    source = RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "c1")
    rec = SignalRecorder("p1", TABLE, source=source, warehouse=warehouse, clock=SystemClock())
    await sink.write("p1", signals(range(0, 5)))
    assert await rec.process(await source.read(100, 0)) == 5
    await sink.write("p1", signals(range(5, 10), features=("f0", "f1", "f2")))
    assert await rec.process(await source.read(100, 0)) == 5
    table = await rows(warehouse)
    assert [r["f_f2"] for r in table] == [None] * 5 + [5.0, 6.0, 7.0, 8.0, 9.0]
