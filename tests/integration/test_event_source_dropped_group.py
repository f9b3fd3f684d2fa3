"""A consumer whose group was dropped (its pipeline deleted: DELETE /v1/pipelines/{name} destroys the
group and deletes its replay stream) idles until the runner stops it: claims and pending checks find
nothing instead of failing each claim round with NOGROUP, and nothing creates the group again.

Real Redis.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.replay_stream import replay_stream_key

pytestmark = pytest.mark.integration
GROUP = "pipeline:goes"


async def groups(redis: aioredis.Redis, key: str) -> list[str]:
    if not await redis.exists(key):
        return []
    return [g["name"].decode() for g in await redis.xinfo_groups(key)]


async def test_claims_and_pending_of_a_dropped_group_are_empty_and_do_not_recreate_it(
        redis_client: aioredis.Redis, namespace: str) -> None:
    stream, replays = f"{namespace}stream:s", replay_stream_key(namespace, GROUP)
    source = RedisEventSource(redis_client, namespace, "s", GROUP, "c1")
    await redis_client.xadd(stream, {"data": "{}"})
    await redis_client.xadd(replays, {"data": "{}", "id": "1-0"})  # a replay: the group reads both streams
    assert len(await source.claim_stale(0, 10)) == 0 and len(await source.read(10, 0)) == 2
    assert await source.oldest_pending() is not None

    await redis_client.xgroup_destroy(stream, GROUP)  # what deleting the pipeline does
    await redis_client.delete(replays)

    assert await source.claim_stale(0, 10) == []
    assert await source.oldest_pending() is None
    assert await source.read(10, 10) == []
    assert await source.claim_stale(0, 10) == []
    assert await groups(redis_client, stream) == [] and not await redis_client.exists(replays)


async def test_the_input_stream_group_dropped_alone_is_not_recreated_either(
        redis_client: aioredis.Redis, namespace: str) -> None:
    stream = f"{namespace}stream:s"
    source = RedisEventSource(redis_client, namespace, "s", GROUP, "c1")
    await redis_client.xadd(stream, {"data": "{}"})
    assert len(await source.read(10, 0)) == 1
    await redis_client.xgroup_destroy(stream, GROUP)

    assert await source.oldest_pending() is None
    assert await source.claim_stale(0, 10) == []
    assert await groups(redis_client, stream) == []
