"""RedisEventSource: one consumer of one consumer group over an input stream (and the group's replays).

After a (re)start the consumer first re-reads its own pending entries (id 0) until none are
left, then switches to new ones (`>`). Delivery counts come from XPENDING, so a poison entry
is recognised whichever consumer ends up holding it.
Events replayed to this group (replay_stream.py) are read in the same XREADGROUP call (a batch
may hold `count` entries of each stream) and handed on under their original id; acking that id
acks the replay entry. The replay stream is joined once it exists, looked for at each claim round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams.consumer_sweep import FORGET_IDLE_MS, forget_idle_consumers
from adapters.redis_streams.keys import Keys, text, transient_errors
from adapters.redis_streams.replay_stream import HandedOn, original_id, replay_stream_key
from adapters.redis_streams.stream_entries import Read, data_text, id_key, next_id, read_entries
from domain.types.streams import StreamEntry

log = logging.getLogger(__name__)

Replayed = tuple[str, str, str, str]  # replay entry id, the event's original id, data, why unreadable


class RedisEventSource:
    def __init__(self, redis: Redis, namespace: str, stream: str, group: str, consumer: str,
                 forget_idle_ms: int = FORGET_IDLE_MS) -> None:
        self._redis, self._stream = redis, Keys(namespace).stream(stream)
        self._replays = replay_stream_key(namespace, group)
        self._group, self._consumer, self._forget_idle_ms = group, consumer, forget_idle_ms
        self._ready = False
        self._replaying = False  # the group is on the replay stream: read it too
        self._own_history = True  # entries this consumer name already holds from a previous life
        self._handed_on = HandedOn()
        self._dropped = False

    async def _ensure_group(self) -> None:
        if self._ready:
            return
        try:
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._ready = True
        await self._join_replays()

    async def _join_replays(self) -> None:
        """Only a replay creates the replay stream (never MKSTREAM here): no key for groups without one."""
        if self._replaying:
            return
        try:
            await self._redis.xgroup_create(self._replays, self._group, id="0")
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                return  # no replay stream: nothing was replayed to this group yet
        self._replaying = True

    async def read(self, count: int, block_ms: int) -> Sequence[StreamEntry]:
        with transient_errors("stream read"):
            await self._ensure_group()
            if self._own_history:
                entries = await self._delivered(await self._read_group("0", count, None), counted=True)
                if entries:
                    return entries
                self._own_history = False
            reply = await self._read_group(">", count, block_ms if block_ms > 0 else None)
            return await self._delivered(reply, counted=False)

    async def _read_group(self, position: str, count: int, block: int | None) -> Any:
        streams = dict.fromkeys(self._keys(), position)
        try:
            return await self._redis.xreadgroup(self._group, self._consumer, streams, count=count, block=block)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            if self._replaying and self._replays in str(exc):
                self._replaying = False  # the replay stream was deleted: look for it again at the next claim
                return []
            return await self._group_dropped(block)

    async def _group_dropped(self, block: int | None) -> list[Any]:
        """The group was dropped (its pipeline deleted, or moved to another stream): read nothing, and
        never create it again, until the runner's next config scan stops this consumer."""
        if not self._dropped:
            log.info("consumer group %s on %s was dropped; consumer %s idles until stopped",
                     self._group, self._stream, self._consumer)
            self._dropped = True
        await asyncio.sleep((block or 100) / 1000)
        return []

    async def ack(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        replayed = self._handed_on.of(ids)
        with transient_errors("stream ack"):
            if not replayed:
                await self._redis.xack(self._stream, self._group, *ids)
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(self._stream, self._group, *ids)
                pipe.xack(self._replays, self._group, *replayed)
                await pipe.execute()
        self._handed_on.release(ids)

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]:
        with transient_errors("stream claim"):
            await self._ensure_group()
            await self._join_replays()
            reply = []
            for key in self._keys():
                claimed = await self._redis.xautoclaim(key, self._group, self._consumer, min_idle_ms,
                                                       start_id="0-0", count=count)
                reply.append((key, claimed[1]))
            return await self._delivered(reply, counted=True)

    async def trim(self) -> int:
        """XTRIM MINID = the smallest id any group still needs (its oldest pending, else its next).
        Also forgets the groups' consumer names of processes long gone (consumer_sweep.py)."""
        with transient_errors("stream trim"):
            return sum([await self._trim(key) for key in self._keys()])

    async def _trim(self, key: str) -> int:
        try:
            groups = await self._redis.xinfo_groups(key)
        except ResponseError:  # no stream yet
            return 0
        floors = []
        for group in groups:
            await forget_idle_consumers(self._redis, key, text(group["name"]), self._forget_idle_ms)
            pending = await self._redis.xpending(key, group["name"])
            after_last = next_id(text(group["last-delivered-id"]))
            floors.append(text(pending["min"]) if pending["pending"] else after_last)
        if not floors:
            return 0  # nobody consumes this stream yet: keep everything
        return int(await self._redis.xtrim(key, minid=min(floors, key=id_key), approximate=False))

    async def oldest_pending(self) -> str | None:
        """Of the input stream only: a replayed event keeps its old id, and this floor only ever grows."""
        with transient_errors("stream pending"):
            await self._ensure_group()
            summary = await self._redis.xpending(self._stream, self._group)
        return text(summary["min"]) if summary["pending"] else None

    async def backlog(self) -> dict[str, int]:
        with transient_errors("stream backlog"):
            groups = [g for key in self._keys() for g in await self._redis.xinfo_groups(key)
                      if text(g["name"]) == self._group]
        return {"lag": sum(int(g.get("lag") or 0) for g in groups), "pending": sum(int(g["pending"]) for g in groups)}

    def _keys(self) -> list[str]:
        return [self._stream, self._replays] if self._replaying else [self._stream]

    async def _delivered(self, reply: Any, counted: bool) -> list[StreamEntry]:
        """The entries of an XREADGROUP or XAUTOCLAIM reply, replayed ones under their original id;
        `counted`: delivery counts from XPENDING (re-reads and claims), else first deliveries."""
        fresh: list[Read] = []
        replayed: list[Replayed] = []
        for key, items in reply or []:
            if text(key) == self._replays:
                replayed += [(text(i), original_id(f) or text(i), *data_text(f)) for i, f in items or [] if f]
            else:
                fresh += read_entries(items)
        counts = await self._counts(self._stream, [i for i, _, _ in fresh]) if counted and fresh else {}
        entries = [StreamEntry(i, raw, counts.get(i, 1), unreadable) for i, raw, unreadable in fresh]
        return entries + (await self._hand_on(replayed, counted) if replayed else [])

    async def _hand_on(self, replayed: list[Replayed], counted: bool) -> list[StreamEntry]:
        counts = await self._counts(self._replays, [r for r, _, _, _ in replayed]) if counted else {}
        for replay_id, event_id, _, _ in replayed:
            self._handed_on.hold(event_id, replay_id)
        return [StreamEntry(event_id, raw, counts.get(replay_id, 1), unreadable)
                for replay_id, event_id, raw, unreadable in replayed]

    async def _counts(self, key: str, ids: list[str]) -> dict[str, int]:
        low, high = min(ids, key=id_key), max(ids, key=id_key)
        rows = await self._redis.xpending_range(key, self._group, min=low, max=high,
                                                count=len(ids) * 2 + 10, consumername=self._consumer)
        return {text(r["message_id"]): int(r["times_delivered"]) for r in rows}

