"""One shared Redis pub/sub connection fanned out to many in-process subscribers (inboxes).

Pub/sub is only a wake-up channel: it drops whatever is published while the connection is down
or an inbox is full. So an inbox can be flagged for a resync, after which its owner re-reads the
stream from the last event it yielded. A `subscribe` confirmation from the server is the sync
point: events published after it arrive live, everything before it is in the stream, so every
confirmation (first subscribe, or re-subscribe after a reconnect) flags the topic's inboxes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from adapters.redis.errors import text
from adapters.redis.inbox import Inbox
from domain.types.errors import TransientError
from domain.types.events import Event

log = logging.getLogger(__name__)

_PING_EVERY = 5.0  # seconds of silence before we check the connection is still alive
_BACKOFF = (0.05, 2.0)  # first and longest delay between reconnect attempts


@dataclass
class _Topic:
    inboxes: set[Inbox] = field(default_factory=set)
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)


class PubSubFanout:
    """Reference-counted SUBSCRIBE per topic on one connection, read by a single task."""

    def __init__(self, redis: Redis, channel_prefix: str, capacity: int, confirm_timeout: float) -> None:
        self._redis = redis
        self._prefix = channel_prefix
        self._capacity = capacity
        self._confirm_timeout = confirm_timeout
        self._topics: dict[str, _Topic] = {}
        self._owned: PubSub | None = None  # the reader's connection, closed when it breaks
        self._pubsub: PubSub | None = None  # the same once subscribed: senders may use it
        self._task: asyncio.Task[None] | None = None
        # FIFO lock: an UNSUBSCRIBE can never overtake a later SUBSCRIBE of the same channel.
        self._send_lock = asyncio.Lock()
        self._delay = _BACKOFF[0]
        self._closed = False
        self._totals = {"buffer_high_water": 0, "overflows": 0, "reconnects": 0}

    async def register(self, topic: str) -> Inbox:
        """An inbox whose channel the server has confirmed, so nothing after now can be missed."""
        if self._closed:
            raise TransientError("the event log is closed")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"pubsub-fanout:{self._prefix}")
        entry = self._topics.get(topic)
        inbox = Inbox(topic, self._capacity)
        if entry is None:
            entry = self._topics[topic] = _Topic()
        entry.inboxes.add(inbox)
        try:
            if len(entry.inboxes) == 1:
                await self._send("subscribe", topic)
            async with asyncio.timeout(self._confirm_timeout):
                await entry.confirmed.wait()
        except TimeoutError as exc:
            await self.unregister(inbox)
            raise TransientError(f"no pub/sub confirmation for topic {topic}") from exc
        except BaseException:
            await self.unregister(inbox)
            raise
        return inbox

    async def unregister(self, inbox: Inbox) -> None:
        entry = self._topics.get(inbox.topic)
        if entry is None or inbox not in entry.inboxes:
            return
        entry.inboxes.discard(inbox)
        self._record(inbox)
        if not entry.inboxes:
            del self._topics[inbox.topic]
            await self._send("unsubscribe", inbox.topic)

    def stats(self) -> dict[str, int]:
        for entry in self._topics.values():
            for inbox in entry.inboxes:
                self._record(inbox)
        return dict(self._totals)

    def _record(self, inbox: Inbox) -> None:
        totals = self._totals
        totals["buffer_high_water"] = max(totals["buffer_high_water"], inbox.high_water)
        totals["overflows"] += inbox.overflows
        inbox.overflows = 0  # counted once

    async def close(self) -> None:
        """Stop the reader; consumers still waiting get TransientError and may resume elsewhere."""
        self._closed = True
        for entry in self._topics.values():
            for inbox in entry.inboxes:
                inbox.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._drop_connection()

    async def _send(self, command: str, topic: str) -> None:
        async with self._send_lock:
            if self._pubsub is None:
                return  # the reader subscribes every live topic when it (re)connects
            try:
                await getattr(self._pubsub, command)(self._prefix + topic)
            except (RedisError, OSError) as exc:
                # The reader sees the same broken connection, reconnects and resubscribes.
                log.warning("pubsub %s %s failed: %s", command, topic, exc)

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except (RedisError, OSError) as exc:
                log.warning("pubsub connection lost (%s); reconnecting in %.2fs", exc, self._delay)
            except Exception:  # a bug must not silently stop live delivery for every subscriber
                log.exception("pubsub reader failed; restarting in %.2fs", self._delay)
            await self._drop_connection()
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, _BACKOFF[1])
            self._totals["reconnects"] += 1

    async def _session(self) -> None:
        pubsub = self._redis.pubsub()
        self._owned = pubsub
        await pubsub.connect()  # type: ignore[no-untyped-call]
        async with self._send_lock:
            self._pubsub = pubsub
            channels = [self._prefix + topic for topic in self._topics]
            if channels:
                await pubsub.subscribe(*channels)
        self._delay = _BACKOFF[0]
        silent = 0
        while True:
            message = await pubsub.get_message(timeout=_PING_EVERY)
            if message is not None:
                silent = 0
                self._dispatch(message)
            elif pubsub.subscribed:
                silent += 1
                if silent > 2:
                    raise RedisConnectionError("pub/sub connection stopped answering PING")
                async with self._send_lock:
                    await pubsub.ping()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = text(message["type"])
        if kind not in ("message", "subscribe"):
            return
        entry = self._topics.get(text(message["channel"])[len(self._prefix) :])
        if entry is None:
            return  # a late message for a topic nobody listens to any more
        if kind == "subscribe":
            for inbox in entry.inboxes:
                inbox.request_resync()
            entry.confirmed.set()
            return
        try:
            event = Event.from_dict(json.loads(message["data"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed event on %s", text(message["channel"]))
            return
        for inbox in entry.inboxes:
            inbox.push(event)

    async def _drop_connection(self) -> None:
        pubsub, self._owned, self._pubsub = self._owned, None, None
        for entry in self._topics.values():
            entry.confirmed.clear()
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            except (RedisError, OSError) as exc:
                log.debug("closing a broken pubsub connection: %s", exc)
