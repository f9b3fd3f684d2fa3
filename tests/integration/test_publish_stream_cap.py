"""Streams nothing in mlplane trims: a `publish` action's stream is capped as the signals stream is (about
`maxlen` entries, never past one a consumer group has not read), and events sent to a stream no pipeline
reads are taken with a warning naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.actions import RedisPublishExecutor
from domain.types.rules import ActionSpec
from tests.support.inference_stack import pipeline, published_stack

pytestmark = pytest.mark.integration
ALERTS = ActionSpec("alert", "publish", {"stream": "alerts"})


async def publish(executor: RedisPublishExecutor, n: int) -> None:
    for i in range(n):
        await executor.execute(ALERTS, f"p1:{i}-0:alert", {"event_id": f"{i}-0", "score": 0.9, "entity": "e1"})


async def test_a_publish_stream_is_cut_back_to_about_its_cap(redis_client: aioredis.Redis, namespace: str) -> None:
    await publish(RedisPublishExecutor(redis_client, namespace, maxlen=100), 1000)
    key = f"{namespace}stream:alerts"
    assert 100 <= await redis_client.xlen(key) < 300  # approximate: whole nodes of entries go at once
    ((_id, fields),) = await redis_client.xrevrange(key, count=1)
    assert json.loads(fields[b"data"]) == {"event_id": "999-0", "score": 0.9, "entity": "e1",
                                           "idempotency_key": "p1:999-0:alert"}


async def test_entries_a_consumer_group_has_not_read_are_kept(redis_client: aioredis.Redis, namespace: str) -> None:
    key = f"{namespace}stream:alerts"
    await redis_client.xgroup_create(key, "downstream", id="0", mkstream=True)
    await publish(RedisPublishExecutor(redis_client, namespace, maxlen=100), 500)
    assert await redis_client.xlen(key) == 500


async def test_events_to_a_stream_no_pipeline_reads_come_with_a_warning(
        redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> None:
    stack = await published_stack(redis_client, namespace, tmp_path)
    event = {"entity_id": "e1", "f0": 0.1, "f1": 0.2, "f2": 0.3}
    unread = await stack.pipelines.ingest("p1-events", [event])
    assert len(unread.ids) == 1 and len(unread.warnings) == 1 and "'p1-events'" in unread.warnings[0]
    await stack.pipelines.save(pipeline())  # reads p1-events from its start: the event above included
    read = await stack.pipelines.ingest("p1-events", [event])
    assert len(read.ids) == 1 and read.warnings == []
    assert await redis_client.xlen(f"{namespace}stream:p1-events") == 2
