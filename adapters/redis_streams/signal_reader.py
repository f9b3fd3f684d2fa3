"""RedisSignalReader: one consumer of a consumer group over `signals:{pipeline}` (the SignalSource port).

The signal sink writes each signal as one field `data` (the JSON of Signal.to_dict()); this
reader hands that text on as StreamEntry.raw and leaves the parsing to the domain. The group is
created at id 0, so a table configured later still receives what the stream holds. Like the
input streams, it re-reads its own pending entries (id 0) after a restart before taking new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams.keys import Keys, text, transient_errors
from domain.types.streams import StreamEntry


class RedisSignalReader:
    def __init__(self, redis: Redis, namespace: str, pipeline: str, group: str, consumer: str) -> None:
        self._redis, self._stream = redis, Keys(namespace).signals(pipeline)
        self._group, self._consumer = group, consumer
        self._ready = False
        self._own_history = True

    async def _ensure_group(self) -> None:
        if self._ready:
            return
        try:
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._ready = True

    async def read(self, count: int, block_ms: int) -> Sequence[StreamEntry]:
        with transient_errors("signal read"):
            await self._ensure_group()
            if self._own_history:
                entries = _entries(await self._redis.xreadgroup(self._group, self._consumer, {self._stream: "0"},
                                                                count=count))
                if entries:
                    return entries
                self._own_history = False
            return _entries(await self._redis.xreadgroup(self._group, self._consumer, {self._stream: ">"},
                                                         count=count, block=block_ms if block_ms > 0 else None))

    async def ack(self, ids: Sequence[str]) -> None:
        if ids:
            with transient_errors("signal ack"):
                await self._redis.xack(self._stream, self._group, *ids)

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]:
        with transient_errors("signal claim"):
            await self._ensure_group()
            reply = await self._redis.xautoclaim(self._stream, self._group, self._consumer, min_idle_ms,
                                                 start_id="0-0", count=count)
        return [StreamEntry(text(i), _data(f)) for i, f in reply[1]]


def _entries(reply: Any) -> list[StreamEntry]:
    return [StreamEntry(text(i), _data(f)) for _stream, items in reply or [] for i, f in items]


def _data(fields: Any) -> str:
    """'' for an entry trimmed while pending (no fields left): the recorder logs it and acks it."""
    value = fields.get(b"data", fields.get("data")) if fields else None
    return "" if value is None else text(value)
