"""InMemoryEventLog: the EventLog port in lists, with Redis-like ids, for unit tests."""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.types.errors import InvalidSpec
from domain.types.events import Event, event_id_key

stream_id = event_id_key  # ids compare as (milliseconds, sequence), never as strings


class InMemoryEventLog:
    def __init__(self) -> None:
        self._topics: dict[str, list[Event]] = defaultdict(list)
        self._keys: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._last = (0, 0)
        self._changed = asyncio.Condition()

    def _next_id(self) -> tuple[int, int]:
        ms = max(time.time_ns() // 1_000_000, self._last[0])
        self._last = (ms, self._last[1] + 1 if ms == self._last[0] else 0)
        return self._last

    async def append(self, topic: str, type: str, data: Mapping[str, Any], at: datetime) -> Event:
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
        key = self._next_id()
        # A JSON copy, as Redis stores it: unserializable data fails here too.
        event = Event(f"{key[0]}-{key[1]}", topic, type, at, json.loads(json.dumps(dict(data))))
        async with self._changed:
            self._topics[topic].append(event)
            self._keys[topic].append(key)
            self._changed.notify_all()
        return event

    def _position(self, topic: str, after: str | None) -> int:
        return 0 if after is None else bisect.bisect_right(self._keys[topic], stream_id(after))

    async def read(self, topic: str, after: str | None = None, limit: int = 1000) -> Sequence[Event]:
        if limit < 1:
            raise InvalidSpec("limit must be at least 1")
        start = self._position(topic, after)
        return list(self._topics[topic][start : start + limit])

    async def subscribe(self, topic: str, after: str | None = None) -> AsyncIterator[Event]:
        position = self._position(topic, after)
        events = self._topics[topic]
        while True:
            async with self._changed:
                while len(events) <= position:
                    await self._changed.wait()
                batch = events[position:]
            position += len(batch)
            for event in batch:
                yield event

    async def close(self) -> None:
        """Nothing to release; present so tests treat every EventLog alike."""
