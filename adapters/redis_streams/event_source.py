"""RedisEventSource: one consumer of one consumer group over an input stream.

After a (re)start the consumer first re-reads its own pending entries (id 0) until none are
left, then switches to new ones (`>`). Delivery counts come from XPENDING, so a poison entry
is recognised whichever consumer ends up holding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams.consumer_sweep import FORGET_IDLE_MS, forget_idle_consumers
from adapters.redis_streams.keys import Keys, text, transient_errors
from domain.types.streams import StreamEntry


class RedisEventSource:
    def __init__(self, redis: Redis, namespace: str, stream: str, group: str, consumer: str,
                 forget_idle_ms: int = FORGET_IDLE_MS) -> None:
        self._redis, self._stream = redis, Keys(namespace).stream(stream)
        self._group, self._consumer, self._forget_idle_ms = group, consumer, forget_idle_ms
        self._ready = False
        self._own_history = True  # entries this consumer name already holds from a previous life

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
        with transient_errors("stream read"):
            await self._ensure_group()
            if self._own_history:
                reply = await self._redis.xreadgroup(self._group, self._consumer, {self._stream: "0"}, count=count)
                entries = _entries(reply)
                if entries:
                    return await self._with_counts(entries)
                self._own_history = False
            reply = await self._redis.xreadgroup(self._group, self._consumer, {self._stream: ">"}, count=count,
                                                 block=block_ms if block_ms > 0 else None)
            return [StreamEntry(i, raw, 1, unreadable) for i, raw, unreadable in _entries(reply)]

    async def ack(self, ids: Sequence[str]) -> None:
        if ids:
            with transient_errors("stream ack"):
                await self._redis.xack(self._stream, self._group, *ids)

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]:
        with transient_errors("stream claim"):
            await self._ensure_group()
            reply = await self._redis.xautoclaim(self._stream, self._group, self._consumer, min_idle_ms,
                                                 start_id="0-0", count=count)
            claimed = [(text(i), *_data(f)) for i, f in reply[1] if f is not None]
            return await self._with_counts(claimed) if claimed else []

    async def trim(self) -> int:
        """XTRIM MINID = the smallest id any group still needs (its oldest pending, else its next).
        Also forgets the groups' consumer names of processes long gone (consumer_sweep.py)."""
        with transient_errors("stream trim"):
            try:
                groups = await self._redis.xinfo_groups(self._stream)
            except ResponseError:  # no stream yet
                return 0
            floors = []
            for group in groups:
                await forget_idle_consumers(self._redis, self._stream, text(group["name"]), self._forget_idle_ms)
                pending = await self._redis.xpending(self._stream, group["name"])
                after_last = _next_id(text(group["last-delivered-id"]))
                floors.append(text(pending["min"]) if pending["pending"] else after_last)
            if not floors:
                return 0  # nobody consumes this stream yet: keep everything
            minid = min(floors, key=_id_key)
            return int(await self._redis.xtrim(self._stream, minid=minid, approximate=False))

    async def oldest_pending(self) -> str | None:
        with transient_errors("stream pending"):
            await self._ensure_group()
            summary = await self._redis.xpending(self._stream, self._group)
        return text(summary["min"]) if summary["pending"] else None

    async def backlog(self) -> dict[str, int]:
        with transient_errors("stream backlog"):
            for group in await self._redis.xinfo_groups(self._stream):
                if text(group["name"]) == self._group:
                    return {"lag": int(group.get("lag") or 0), "pending": int(group["pending"])}
        return {"lag": 0, "pending": 0}

    async def _with_counts(self, entries: list[tuple[str, str, str]]) -> list[StreamEntry]:
        ids = [i for i, _, _ in entries]
        low, high = min(ids, key=_id_key), max(ids, key=_id_key)
        rows = await self._redis.xpending_range(self._stream, self._group, min=low, max=high,
                                                count=len(ids) * 2 + 10, consumername=self._consumer)
        counts = {text(r["message_id"]): int(r["times_delivered"]) for r in rows}
        return [StreamEntry(i, raw, counts.get(i, 1), unreadable) for i, raw, unreadable in entries]


def _entries(reply: Any) -> list[tuple[str, str, str]]:
    """(id, data, why data is unreadable or ""); an entry trimmed while pending comes back empty and is skipped."""
    out = []
    for _stream, items in reply or []:
        if items and isinstance(items[0][0], bytes):  # the usual client: one decode per value, nothing else
            try:
                out += [(i.decode(), f[b"data"].decode() if b"data" in f else "", "") for i, f in items if f]
                continue
            except UnicodeDecodeError:  # some client wrote bytes that are not text: decode entry by entry
                pass
        out.extend((text(i), *_data(f)) for i, f in items if f)
    return out


def _data(fields: Any) -> tuple[str, str]:
    """The `data` field as text (no field: "", which the parser dead-letters), and why it cannot be
    read. Bytes that are not UTF-8 must not fail the read: the entry would stay pending and stop
    the pipeline at every retry. They are kept escaped (\\xff) for the dead letter instead."""
    value = fields.get(b"data", fields.get("data")) if fields else None
    if not isinstance(value, bytes):
        return ("" if value is None else value), ""
    try:
        return value.decode(), ""
    except UnicodeDecodeError as exc:
        return value.decode(errors="backslashreplace"), f"data is not UTF-8 text (byte {exc.start}: {exc.reason})"


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _next_id(entry_id: str) -> str:
    ms, seq = _id_key(entry_id)
    return f"{ms}-{seq + 1}"
