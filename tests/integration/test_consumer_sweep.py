"""Trimming an input stream forgets consumer names of processes long gone, never one holding entries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.keys import Keys, text
from adapters.redis_streams.producer import RedisStreamProducer

pytestmark = pytest.mark.integration
GROUP = "pipeline:p1"


async def consumers(redis_client: Any, namespace: str) -> dict[str, int]:
    rows = await redis_client.xinfo_consumers(Keys(namespace).stream("s"), GROUP)
    return {text(row["name"]): int(row["pending"]) for row in rows}


async def test_idle_names_without_pending_entries_go_and_a_name_holding_entries_stays(
        redis_client: Any, namespace: str) -> None:
    producer = RedisStreamProducer(redis_client, namespace)
    await producer.append("s", ['{"n": 1}', '{"n": 2}'])

    def source(name: str) -> RedisEventSource:
        return RedisEventSource(redis_client, namespace, "s", GROUP, name, forget_idle_ms=50)

    gone, crashed = source("gone-host-1"), source("crashed-host-2")
    await gone.ack([e.id for e in await gone.read(1, 0)])  # finished its work, then its process ended
    held = await crashed.read(1, 0)  # died holding an entry: its name stays until that is claimed
    await asyncio.sleep(0.1)
    live = source("live-host-3")
    await live.read(10, 0)
    await live.trim()
    assert await consumers(redis_client, namespace) == {"crashed-host-2": 1, "live-host-3": 0}
    assert [e.id for e in await live.claim_stale(0, 10)] == [e.id for e in held]
    await live.ack([e.id for e in held])
    await asyncio.sleep(0.1)
    await source("another").trim()
    assert "crashed-host-2" not in await consumers(redis_client, namespace)
