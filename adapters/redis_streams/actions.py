"""Action side of Redis: done-markers for idempotency keys, and the `publish` action (XADD)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, transient_errors
from domain.types.rules import ActionSpec


class RedisActionLedger:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis, self._keys = redis, Keys(namespace)

    async def is_done(self, key: str) -> bool:
        with transient_errors("ledger read"):
            return bool(await self._redis.exists(self._keys.done(key)))

    async def mark_done(self, key: str, ttl_s: int) -> None:
        with transient_errors("ledger write"):
            await self._redis.set(self._keys.done(key), "1", ex=ttl_s, nx=True)


class RedisPublishExecutor:
    """`publish`: the signal, with its idempotency key, appended to stream `params.stream`."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis, self._keys = redis, Keys(namespace)

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        with transient_errors("publish action"):
            await self._redis.xadd(self._keys.stream(action.params["stream"]),
                                   {"data": json.dumps({**body, "idempotency_key": key}, default=str)})
