"""RedisEventSource: one consumer of one consumer group over an input stream (and the group's replays).

After a (re)start the consumer first re-reads its own pending entries (id 0) until none are
left, then switches to new ones (`>`). Delivery counts come from XPENDING, so a poison entry
is recognised whichever consumer ends up holding it.
Events replayed to this group (replay_stream.py) are read in the same XREADGROUP call (a batch
may hold `count` entries of each stream) and handed on under their original id, placed at their
replay entry's id (StreamEntry.position, the order of a batch); acking that id acks the replay
entry. The replay stream is joined once it exists, looked for at each claim round.
A group dropped meanwhile (NOGROUP: its pipeline deleted or moved) is never created again: reads,
claims and pending checks find nothing until the runner stops this consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams import stream_entries as entries_of
from adapters.redis_streams.consumer_sweep import FORGET_IDLE_MS
from adapters.redis_streams.keys import Keys, text, transient_errors
from adapters.redis_streams.replay_stream import HandedOn, original_id, replay_stream_key
from adapters.redis_streams.stream_entries import Read, data_text, id_key, read_entries
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
        if self._replaying or self._dropped:
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
            replays_gone = self._replaying and self._replays in str(exc)
            self._no_group(self._replays if replays_gone else self._stream)
            if not replays_gone:
                await asyncio.sleep((block or 100) / 1000)  # idle, as a read with nothing new would
            return []

    def _no_group(self, key: str) -> None:
        """`key` answered NOGROUP: the replay stream was deleted (look for it again at the next claim),
        or the input stream's group was dropped (its pipeline deleted, or moved to another stream):
        never create it again, read nothing until the runner's next config scan stops this consumer."""
        if key == self._replays:
            self._replaying = False
        elif not self._dropped:
            log.info("consumer group %s on %s was dropped; consumer %s idles until stopped",
                     self._group, self._stream, self._consumer)
            self._dropped = True

    async def _unless_dropped(self, key: str, call: Awaitable[Any]) -> Any:
        """The call's reply, None when `key` has no such group (any other error is raised)."""
        try:
            return await call
        except ResponseError as exc:
            return self._unless_nogroup(key, exc)

    def _unless_nogroup(self, key: str, reply: Any) -> Any:
        if not isinstance(reply, Exception):
            return reply
        if not isinstance(reply, ResponseError) or "NOGROUP" not in str(reply):
            raise reply
        self._no_group(key)
        return None

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
                claimed = await self._unless_dropped(key, self._redis.xautoclaim(
                    key, self._group, self._consumer, min_idle_ms, start_id="0-0", count=count))
                reply.append((key, claimed[1] if claimed else []))
            return await self._delivered(reply, counted=True)

    async def trim(self) -> int:
        with transient_errors("stream trim"):
            return sum([await entries_of.trim_acked(self._redis, key, self._forget_idle_ms) for key in self._keys()])

    async def oldest_pending(self) -> str | None:
        """The smallest position pending: a replayed event's is its replay entry's id (windows keep
        the history it will need if redelivered), so the replay stream counts too."""
        with transient_errors("stream pending"):
            await self._ensure_group()
            if not self._replaying:  # the usual case: one round trip, no pipeline
                summaries = [await self._unless_dropped(self._stream, self._redis.xpending(self._stream, self._group))]
            else:
                replies = await entries_of.pending_summaries(self._redis, self._keys(), self._group)
                summaries = [self._unless_nogroup(key, reply) for key, reply in zip(self._keys(), replies, strict=True)]
        floors = [text(s["min"]) for s in summaries if s and s["pending"]]
        return min(floors, key=id_key, default=None)

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
        if not replayed:
            return entries
        # Stable: on a tie (the two streams number apart) the input entry goes first, as windows order them.
        return sorted(entries + await self._hand_on(replayed, counted), key=lambda e: id_key(e.position))

    async def _hand_on(self, replayed: list[Replayed], counted: bool) -> list[StreamEntry]:
        counts = await self._counts(self._replays, [r for r, _, _, _ in replayed]) if counted else {}
        for replay_id, event_id, _, _ in replayed:
            self._handed_on.hold(event_id, replay_id)
        return [StreamEntry(event_id, raw, counts.get(replay_id, 1), unreadable, replay_id)
                for replay_id, event_id, raw, unreadable in replayed]

    async def _counts(self, key: str, ids: list[str]) -> dict[str, int]:
        return await entries_of.delivery_counts(self._redis, key, self._group, self._consumer, ids)

