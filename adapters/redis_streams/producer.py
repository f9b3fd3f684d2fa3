"""RedisStreamProducer: XADD events as field `data` (pipelined); a consumer group's backlog, creation and removal."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams.keys import Keys, text, transient_errors
from adapters.redis_streams.replay_stream import replay_stream_key


class RedisStreamProducer:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis, self._keys = redis, Keys(namespace)

    async def append(self, stream: str, events: Sequence[str]) -> list[str]:
        key = self._keys.stream(stream)
        with transient_errors("stream append"):
            async with self._redis.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.xadd(key, {"data": event})
                ids = await pipe.execute()
        return [text(i) for i in ids]

    async def backlog(self, stream: str, group: str) -> dict[str, int]:
        with transient_errors("stream backlog"):
            try:
                groups = await self._redis.xinfo_groups(self._keys.stream(stream))
            except ResponseError:  # no such stream yet
                return {"lag": 0, "pending": 0}
        for info in groups:
            if text(info["name"]) == group:
                return {"lag": int(info.get("lag") or 0), "pending": int(info["pending"])}
        return {"lag": 0, "pending": 0}

    async def ensure_group(self, stream: str, group: str) -> None:
        with transient_errors("stream group create"):
            try:  # at "0" with MKSTREAM: where RedisEventSource creates it
                await self._redis.xgroup_create(self._keys.stream(stream), group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def drop_group(self, stream: str, group: str) -> None:
        with transient_errors("stream group drop"), contextlib.suppress(ResponseError):  # no such stream
            await self._redis.xgroup_destroy(self._keys.stream(stream), group)

    async def drop_replays(self, group: str) -> None:
        with transient_errors("replay stream drop"):
            await self._redis.delete(replay_stream_key(self._keys.ns, group))
