"""RedisEventLog: one capped stream per topic for history, pub/sub on the side for live delivery.

An append is XADD + PUBLISH in one Lua script, so the publish order equals the stream id order.
A subscriber registers for live events first, then reads the stream, then drains what arrived
live, skipping ids it already yielded: that is what makes it lossless (see fanout.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from adapters.redis.errors import text, transient_errors
from adapters.redis.fanout import PubSubFanout
from adapters.redis.inbox import Inbox
from domain.types.errors import InvalidSpec, TransientError
from domain.types.events import Event, event_id_key

# ARGV: maxlen, channel, type, at, data JSON, envelope JSON without the id (starts with '{').
_APPEND = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'type', ARGV[3], 'at', ARGV[4], 'data', ARGV[5])
redis.call('PUBLISH', ARGV[2], '{"id":"' .. id .. '",' .. string.sub(ARGV[6], 2))
return id
"""

_PAGE = 500  # stream entries per XRANGE while catching up: bounds memory like the inboxes
_RETRY = (0.05, 2.0)  # first and longest pause between catch-up attempts while Redis is down

log = logging.getLogger(__name__)


stream_id = event_id_key  # ids compare as (milliseconds, sequence), never as strings


def _utc(at: datetime) -> datetime:
    # Naive datetimes are taken as UTC: the domain only produces aware ones.
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def topic_stream_key(namespace: str, topic: str) -> str:
    """The stream holding a topic's history; the job store expires job topics with their record."""
    return f"{namespace}events:{topic}"


class RedisEventLog:
    """EventLog on Redis: stream `{namespace}events:{topic}`, channel `{namespace}notify:{topic}`.

    Live delivery shares one pub/sub connection per instance (started by the first subscriber);
    call `close()` to stop it. Streams are capped at about `maxlen` entries: a subscriber that
    falls further behind than that loses the trimmed entries.
    """

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        maxlen: int = 10000,
        buffer_size: int = 1000,
        confirm_timeout: float = 10.0,
    ) -> None:
        self._redis = redis
        self._namespace = namespace
        self._maxlen = maxlen
        self._append = redis.register_script(_APPEND)
        self._fanout = PubSubFanout(redis, f"{namespace}notify:", buffer_size, confirm_timeout)

    def _stream(self, topic: str) -> str:
        return topic_stream_key(self._namespace, topic)

    async def append(self, topic: str, type: str, data: Mapping[str, Any], at: datetime) -> Event:
        at, data_json = _utc(at), json.dumps(dict(data))
        envelope = json.dumps({"topic": topic, "type": type, "at": _iso(at), "data": dict(data)})
        args: list[str | int] = [self._maxlen, f"{self._namespace}notify:{topic}", type, _iso(at), data_json, envelope]
        with transient_errors("event append"):
            event_id = text(await self._append(keys=[self._stream(topic)], args=args))
        # Return what a reader will see: data after a JSON round trip.
        return Event(event_id, topic, type, at, json.loads(data_json))

    async def read(self, topic: str, after: str | None = None, limit: int = 1000) -> Sequence[Event]:
        if limit < 1:
            raise InvalidSpec("limit must be at least 1")
        start = "-" if after is None else "({}-{}".format(*stream_id(after))
        with transient_errors("event read"):
            entries = await self._redis.xrange(self._stream(topic), min=start, count=limit)
        return [_event(topic, entry_id, fields) for entry_id, fields in entries]

    async def subscribe(self, topic: str, after: str | None = None) -> AsyncIterator[Event]:
        last = None if after is None else stream_id(after)
        inbox = await self._fanout.register(topic)
        catching_up = False
        try:
            while True:
                if inbox.needs_resync:
                    inbox.start_resync()  # what is buffered from now on is deduped against the read
                    catching_up = True
                if catching_up:
                    batch = await self._read_retrying(inbox, last)
                    catching_up = len(batch) == _PAGE
                else:
                    live = await inbox.next()  # None: resync first; older than `last`: a repeat
                    batch = [live] if live is not None and (last is None or stream_id(live.id) > last) else []
                for event in batch:
                    last = stream_id(event.id)
                    yield event
        finally:
            await self._fanout.unregister(inbox)

    async def _read_retrying(self, inbox: Inbox, last: tuple[int, int] | None) -> Sequence[Event]:
        """One page after `last`; while Redis is unreachable, wait and retry.

        The port promises the iterator ends only when the consumer stops, so an outage pauses a
        subscription instead of ending it; the consumer may bound the wait with its own timeout.
        """
        after = None if last is None else "{}-{}".format(*last)
        delay = _RETRY[0]
        while True:
            try:
                return await self.read(inbox.topic, after, _PAGE)
            except TransientError as exc:
                if inbox.closed:
                    raise
                log.warning("catching up on %s failed (%s); retrying in %.2fs", inbox.topic, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY[1])

    async def close(self) -> None:
        """Stop the shared pub/sub reader; open subscriptions stop receiving live events."""
        await self._fanout.close()

    def stats(self) -> dict[str, int]:
        """Counters for metrics: buffer_high_water (bounded by buffer_size), overflows, reconnects."""
        return self._fanout.stats()


def _event(topic: str, entry_id: bytes | str, fields: Mapping[Any, Any]) -> Event:
    raw = {text(k): text(v) for k, v in fields.items()}
    at = datetime.fromisoformat(raw["at"].replace("Z", "+00:00"))
    return Event(text(entry_id), topic, raw["type"], at, json.loads(raw["data"]))
