"""RedisWindowStore: each entity's window is a Redis list of `id|ts|v1,v2,...`, the source of truth.

One Lua call per batch updates every event's window, in order, idempotently by stream id (an
event at or before the last applied one is not added again; the window up to it is returned).
Windows are also cached in process, and each call sends the last id the cache knows: Redis
answers `sync` when its list agrees (the usual case: nothing to transfer or parse) and the whole
list when it does not (another consumer served the entity, a restart, an expiry). So any
consumer can serve any entity and a restart loses nothing, while the steady state moves no
window data over the wire.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, text, transient_errors
from adapters.redis_streams.window_script import WINDOW_BATCH
from domain.types.streams import ParsedEvent
from ports.window_store import Window

Row = tuple[float, list[float]]  # ts, values


class _Cached:
    """One entity's window as this process last saw it; ids alongside, rows ready to hand out."""

    __slots__ = ("ids", "rows")

    def __init__(self, ids: list[str], rows: list[Row]) -> None:
        self.ids, self.rows = ids, rows


class RedisWindowStore:
    """Windows of entities silent for `ttl_s` expire in Redis; the cache holds `cache_entities` at most."""

    def __init__(self, redis: Redis, namespace: str, ttl_s: int = 7 * 24 * 3600, cache_entities: int = 100_000) -> None:
        self._redis, self._keys, self._ttl = redis, Keys(namespace), ttl_s
        self._script = redis.register_script(WINDOW_BATCH)
        self._cache: OrderedDict[tuple[str, str], _Cached] = OrderedDict()
        self._cache_entities = cache_entities

    async def append(
        self, pipeline: str, events: Sequence[ParsedEvent], max_events: int, max_age_s: float | None
    ) -> list[Window]:
        if not events:
            return []
        keys, args = self._request(pipeline, events, max_events, max_age_s)
        with transient_errors("window append"):
            replies = await self._script(keys=keys, args=args)
        return [self._apply(pipeline, e, r, max_events, max_age_s) for e, r in zip(events, replies, strict=True)]

    def _request(self, pipeline: str, events: Sequence[ParsedEvent], max_events: int,
                 max_age_s: float | None) -> tuple[list[str], list[str | int | float]]:
        keys: list[str] = []
        args: list[str | int | float] = [max_events, -1 if max_age_s is None else max_age_s, self._ttl]
        optimistic: dict[str, str] = {}  # entity -> the last id Redis will hold, if the cache is right
        for e in events:
            cached = self._cache.get((pipeline, e.entity))
            expected = optimistic.get(e.entity, cached.ids[-1] if cached and cached.ids else "")
            if _key(e.id) > _key(expected):
                optimistic[e.entity] = e.id
            keys.append(self._keys.window(pipeline, e.entity))
            args.append(f"{expected}\t{e.id}|{e.ts!r}|{','.join(map(repr, e.values))}")
        return keys, args

    def _apply(self, pipeline: str, event: ParsedEvent, reply: Sequence[bytes | str], max_events: int,
               max_age_s: float | None) -> Window:
        status, entries = text(reply[0]), reply[1:]
        slot = (pipeline, event.entity)
        if status == "prefix":
            rows = [_row(text(e))[1] for e in entries][-max_events:]
            if max_age_s is not None:
                rows = [r for r in rows if r[0] >= event.ts - max_age_s] or rows[-1:]
            return rows
        if status == "sync":
            cached = self._cache.get(slot) or _Cached([], [])
            cached.ids.append(event.id)
            cached.rows.append((event.ts, list(event.values)))
            _trim(cached, event.ts, max_events, max_age_s)
        else:
            parsed = [_row(text(e)) for e in entries]
            cached = _Cached([i for i, _ in parsed], [r for _, r in parsed])
        self._remember(slot, cached)
        return list(cached.rows)  # a copy: later events of this entity extend the cached list

    def _remember(self, slot: tuple[str, str], cached: _Cached) -> None:
        self._cache[slot] = cached
        self._cache.move_to_end(slot)
        while len(self._cache) > self._cache_entities:
            self._cache.popitem(last=False)

    async def clear(self, pipeline: str) -> None:
        self._cache = OrderedDict((k, v) for k, v in self._cache.items() if k[0] != pipeline)
        with transient_errors("window clear"):
            keys = [k async for k in self._redis.scan_iter(match=self._keys.window_prefix(pipeline) + "*", count=1000)]
            if keys:
                await self._redis.delete(*keys)


def _trim(cached: _Cached, ts: float, max_events: int, max_age_s: float | None) -> None:
    """The same trimming as the script: count first, then age (always keeping the newest)."""
    del cached.ids[:-max_events], cached.rows[:-max_events]
    if max_age_s is not None:
        while len(cached.rows) > 1 and cached.rows[0][0] < ts - max_age_s:
            del cached.ids[0], cached.rows[0]


def _row(entry: str) -> tuple[str, Row]:
    entry_id, ts, values = entry.split("|")
    return entry_id, (float(ts), [float(v) for v in values.split(",")])


def _key(entry_id: str) -> tuple[int, int]:
    if not entry_id:
        return (-1, -1)
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
