"""Entries as XREADGROUP and XAUTOCLAIM return them, read as text; stream ids compared as numbers;
the XPENDING and XTRIM calls of a group's streams."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams.consumer_sweep import forget_idle_consumers
from adapters.redis_streams.keys import text

Read = tuple[str, str, str]  # entry id, data, why data is unreadable ("" when it reads)


def read_entries(items: Any) -> list[Read]:
    """An entry trimmed while pending comes back empty and is skipped."""
    if items and isinstance(items[0][0], bytes):  # the usual client: one decode per value, nothing else
        try:
            return [(i.decode(), f[b"data"].decode(), "") for i, f in items if f]
        except (UnicodeDecodeError, KeyError):  # bytes that are not text, or no `data`: entry by entry
            pass
    return [(text(i), *data_text(f)) for i, f in items or [] if f]


def data_text(fields: Any) -> tuple[str, str]:
    """The `data` field as text, and why it cannot be read ("" when it can): an entry with no `data`
    (some client XADDed other fields) is dead-lettered saying so. Bytes that are not UTF-8 must not
    fail the read: the entry would stay pending and stop the pipeline at every retry. They are kept
    escaped (\\xff) for the dead letter instead."""
    value = fields.get(b"data", fields.get("data")) if fields else None
    if value is None:
        return "", f"the entry has no 'data' field (it has {_names(fields)}): put the event's JSON text in 'data'"
    if not isinstance(value, bytes):
        return value, ""
    try:
        return value.decode(), ""
    except UnicodeDecodeError as exc:
        return value.decode(errors="backslashreplace"), f"data is not UTF-8 text (byte {exc.start}: {exc.reason})"


def _names(fields: Any) -> str:
    """The entry's field names for a reason: escaped if not text, and only the first few."""
    names = [k.decode(errors="backslashreplace") if isinstance(k, bytes) else str(k) for k in (fields or {})]
    shown = ", ".join(repr(n[:40]) for n in names[:5])
    return (shown + f" and {len(names) - 5} more") if len(names) > 5 else shown or "no fields"


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def next_id(entry_id: str) -> str:
    ms, seq = id_key(entry_id)
    return f"{ms}-{seq + 1}"


async def delivery_counts(redis: Redis, key: str, group: str, consumer: str, ids: list[str]) -> dict[str, int]:
    """How many times each of `ids` (held by `consumer`) was delivered, this delivery included."""
    low, high = min(ids, key=id_key), max(ids, key=id_key)
    rows = await redis.xpending_range(key, group, min=low, max=high, count=len(ids) * 2 + 10, consumername=consumer)
    return {text(r["message_id"]): int(r["times_delivered"]) for r in rows}


async def pending_summaries(redis: Redis, keys: list[str], group: str) -> list[Any]:
    """XPENDING of the group on each key in one round trip; a key's error is its reply, not raised."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.xpending(key, group)
        return list(await pipe.execute(raise_on_error=False))


async def trim_acked(redis: Redis, key: str, forget_idle_ms: int) -> int:
    """XTRIM MINID = the smallest id any group still needs (its oldest pending, else its next).
    Also forgets the groups' consumer names of processes long gone (consumer_sweep.py)."""
    try:
        groups = await redis.xinfo_groups(key)
    except ResponseError:  # no stream yet
        return 0
    floors = []
    for group in groups:
        await forget_idle_consumers(redis, key, text(group["name"]), forget_idle_ms)
        pending = await redis.xpending(key, group["name"])
        after_last = next_id(text(group["last-delivered-id"]))
        floors.append(text(pending["min"]) if pending["pending"] else after_last)
    if not floors:
        return 0  # nobody consumes this stream yet: keep everything
    return int(await redis.xtrim(key, minid=min(floors, key=id_key), approximate=False))
