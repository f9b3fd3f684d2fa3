"""The signals stream on real Redis: capped, but never below what a consumer group on it (the
signals_table recorder) has not acked, whether not delivered yet or delivered and left pending."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.signal_reader import RedisSignalReader
from adapters.redis_streams.signals import RedisSignalSink
from domain.services.signal_recorder import recorder_group
from domain.types.streams import Signal

pytestmark = pytest.mark.integration
CAP = 500
SLACK = 150  # trimming removes whole stream nodes (up to 100 entries each): up to a node more is kept


def signals(ids: range) -> list[Signal]:
    return [Signal(f"{i}-0", f"e{i % 3}", 1, 0.25, 0, {"f0": float(i)}, 1.5) for i in ids]


async def write(sink: RedisSignalSink, ids: range, per_call: int = 250) -> None:
    for start in range(ids.start, ids.stop, per_call):
        await sink.write("p1", signals(range(start, min(start + per_call, ids.stop))))


def event_ids(entries: list[object]) -> list[str]:
    return [json.loads(e.raw)["event_id"] for e in entries]  # type: ignore[attr-defined]


async def length(redis: aioredis.Redis, namespace: str) -> int:
    return int(await redis.xlen(f"{namespace}signals:p1"))


async def test_without_a_group_the_stream_is_capped(redis_client: aioredis.Redis, namespace: str) -> None:
    sink = RedisSignalSink(redis_client, namespace, maxlen=CAP)
    await write(sink, range(3000))
    assert CAP <= await length(redis_client, namespace) <= CAP + SLACK
    assert await sink.backlog("p1") == 0


async def test_a_group_that_read_nothing_keeps_every_signal_and_acking_brings_the_cap_back(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    sink = RedisSignalSink(redis_client, namespace, maxlen=CAP)
    reader = RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "c1")
    await reader.join()
    await write(sink, range(3000))
    assert await length(redis_client, namespace) == 3000 and await sink.backlog("p1") == 3000
    read = []
    while batch := await reader.read(700, 0):
        read.extend(batch)
        await reader.ack([e.id for e in batch])
    assert event_ids(read) == [f"{i}-0" for i in range(3000)]
    await write(sink, range(3000, 3010))
    assert CAP <= await length(redis_client, namespace) <= CAP + SLACK
    assert await sink.backlog("p1") == 10
    assert (await sink.stats("p1"))["signals_backlog"] == 10


async def test_signals_a_dead_reader_left_pending_are_kept_until_another_one_claims_them(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    sink = RedisSignalSink(redis_client, namespace, maxlen=CAP)
    dead = RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "dead")
    live = RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "live")
    await write(sink, range(200))
    taken = await dead.read(200, 0)  # then it dies without acking
    await write(sink, range(200, 3000))
    while batch := await live.read(1000, 0):  # the rest is recorded and acked
        await live.ack([e.id for e in batch])
    await write(sink, range(3000, 3010))
    assert await length(redis_client, namespace) >= 3000  # the oldest pending entry holds the stream
    claimed = await live.claim_stale(0, 500)
    assert event_ids(list(claimed)) == event_ids(list(taken)) == [f"{i}-0" for i in range(200)]
    await live.ack([e.id for e in claimed])
    await write(sink, range(3010, 3020))
    assert CAP <= await length(redis_client, namespace) <= CAP + SLACK


async def test_a_group_left_behind_no_longer_holds_the_stream(redis_client: aioredis.Redis, namespace: str) -> None:
    sink = RedisSignalSink(redis_client, namespace, maxlen=CAP)
    reader = RedisSignalReader(redis_client, namespace, "p1", recorder_group("p1"), "c1")
    await reader.leave()  # no stream yet: nothing to do
    await reader.join()
    await write(sink, range(2000))
    assert await length(redis_client, namespace) == 2000
    await reader.leave()  # the pipeline no longer has a signals_table
    await write(sink, range(2000, 2010))
    assert CAP <= await length(redis_client, namespace) <= CAP + SLACK
    assert await sink.backlog("p1") == 0
