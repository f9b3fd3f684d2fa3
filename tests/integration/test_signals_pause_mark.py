"""The consumers' pause mark on real Redis: the pipeline stats say `paused` while a consumer holds new
input, through the hysteresis band, and no longer once it resumed, stopped, or stopped renewing."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.signal_reader import RedisSignalReader
from adapters.redis_streams.signals import RedisSignalSink
from adapters.system.clock import SystemClock
from domain.services.signal_backpressure import SignalBackpressure
from domain.services.signal_recorder import recorder_group
from domain.types.streams import Signal

pytestmark = pytest.mark.integration


def signals(count: int) -> list[Signal]:
    return [Signal(f"{i}-0", "e0", 1, 0.5, 1, {"f0": 0.5}, 1.0) for i in range(1, count + 1)]


async def behind(redis: aioredis.Redis, namespace: str, count: int) -> tuple[RedisSignalSink, RedisSignalReader]:
    """A sink holding `count` signals its joined recorder has not read yet."""
    sink = RedisSignalSink(redis, namespace)
    recorder = RedisSignalReader(redis, namespace, "p1", recorder_group("p1"), "recorder")
    await recorder.join()
    await sink.write("p1", signals(count))
    return sink, recorder


async def paused(sink: RedisSignalSink) -> str | None:
    stats = await sink.stats("p1")
    return None if stats["paused"] is None else str(stats["paused"])


async def test_stats_show_the_pause_through_the_hysteresis_band_until_the_consumer_resumes(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    sink, recorder = await behind(redis_client, namespace, 21)
    gate = SignalBackpressure("p1", sink, SystemClock(), limit=20, check_every_s=0.0)
    assert await paused(sink) is None  # over the limit, but no consumer holds anything yet
    seen = []
    for recorded in (0, 2, 1, 1):  # 21 behind (pause), 19 (still paused), 18 (resumed), 17
        await recorder.ack([e.id for e in await recorder.read(recorded, 0)] if recorded else [])
        seen.append((await gate.holds(), await paused(sink)))
    assert seen == [(True, "signals recorder is 21 entries behind (limit 20)"),
                    (True, "signals recorder is 19 entries behind (limit 20), resuming at 18 or fewer"),
                    (False, None), (False, None)]


async def test_a_mark_goes_with_a_consumer_that_stops_or_stops_renewing_it(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    sink, _ = await behind(redis_client, namespace, 3)
    gate = SignalBackpressure("p1", sink, SystemClock(), limit=2, check_every_s=0.0)
    assert await gate.holds()
    assert 9_000 < await redis_client.pttl(f"{namespace}pl:p1:stats:pause_marks") <= 10_000  # renewed at each check
    await gate.release()  # the consumer stopped
    assert await paused(sink) is None
    await sink.mark_paused("p1", "crashed", "a consumer that crashed while paused", ttl_s=0.05)
    assert await paused(sink) == "a consumer that crashed while paused"
    await asyncio.sleep(0.15)
    assert await paused(sink) is None


async def test_one_consumer_resuming_leaves_the_pause_another_still_holds(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    sink, recorder = await behind(redis_client, namespace, 26)
    strict = SignalBackpressure("p1", sink, SystemClock(), limit=20, check_every_s=0.0)
    lenient = SignalBackpressure("p1", sink, SystemClock(), limit=25, check_every_s=0.0)
    assert await strict.holds() and await lenient.holds()  # 26 behind: both hold
    await recorder.ack([e.id for e in await recorder.read(5, 0)])
    assert await strict.holds()  # 21 behind: over 20, renewed
    assert not await lenient.holds()  # and under 90% of 25: this one resumes, after the other renewed
    assert await paused(sink) == "signals recorder is 21 entries behind (limit 20)"
    await strict.release()
    assert await paused(sink) is None
