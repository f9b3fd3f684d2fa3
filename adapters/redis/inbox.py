"""Inbox: the bounded buffer of live events behind one subscriber of RedisEventLog."""

from __future__ import annotations

import asyncio
from collections import deque

from domain.types.errors import TransientError
from domain.types.events import Event


class Inbox:
    """Bounded buffer of live events for one subscriber; full means "resync", never "grow"."""

    def __init__(self, topic: str, capacity: int) -> None:
        self.topic = topic
        self.needs_resync = True  # the first resync is the backlog read
        self.high_water = 0
        self.overflows = 0
        self._capacity = capacity
        self._items: deque[Event] = deque()
        self._wake = asyncio.Event()
        self._closed = False

    def push(self, event: Event) -> None:
        if self.needs_resync:
            return  # the coming stream read covers it
        if len(self._items) >= self._capacity:
            self.overflows += 1
            self.request_resync()
            return
        self._items.append(event)
        self.high_water = max(self.high_water, len(self._items))
        self._wake.set()

    def request_resync(self) -> None:
        self._items.clear()
        self.needs_resync = True
        self._wake.set()

    def start_resync(self) -> None:
        """Call just before reading the stream: what is buffered now is in that read too."""
        self.needs_resync = False
        self._items.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def next(self) -> Event | None:
        """The next buffered event, or None when the owner must resync first."""
        while not self._items and not self.needs_resync and not self._closed:
            self._wake.clear()
            await self._wake.wait()
        if self._closed:
            raise TransientError("the event log was closed while subscribed")
        return None if self.needs_resync else self._items.popleft()
