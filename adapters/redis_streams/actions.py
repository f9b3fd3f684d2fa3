"""Action side of Redis: done-markers for idempotency keys, and the `publish` action (XADD, capped)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, transient_errors
from adapters.redis_streams.signals import WRITE_LINES, lines
from domain.types.rules import ActionSpec

# MLPLANE_PUBLISH_STREAM_MAXLEN's default: the signals stream's cap.
DEFAULT_PUBLISH_MAXLEN = 100_000


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
    """`publish`: the signal, with its idempotency key, appended to stream `params.stream`.

    Nothing else trims these streams, so each append cuts its stream back to about `maxlen` entries the
    way the signals stream is cut: never past an entry a consumer group on it has not read (or acked)."""

    def __init__(self, redis: Redis, namespace: str, maxlen: int = DEFAULT_PUBLISH_MAXLEN) -> None:
        self._redis, self._keys, self._maxlen = redis, Keys(namespace), maxlen
        self._write = redis.register_script(WRITE_LINES)

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        with transient_errors("publish action"):
            await self._write(keys=[self._keys.stream(action.params["stream"])],
                              args=[self._maxlen, lines([{**body, "idempotency_key": key}])])
