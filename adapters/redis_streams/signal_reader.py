"""RedisSignalReader: a consumer of a consumer group over `signals:{pipeline}` (the SignalSource port).

The signal sink writes each signal as one field `data` (the JSON of Signal.to_dict()), the same
layout as an input stream, so this is the input streams' reader pointed at the signals key: it
hands the text on as StreamEntry.raw (the domain parses it), re-reads its own pending entries
after a restart before taking new ones, and creates the group at id 0, so a table configured
later still receives what the stream holds.

The sink keeps every signal a group on the stream has not acked, so the group's life follows the
pipeline's config: `join` when it has a signals_table (even where no recorder runs yet), `leave`
when it has none, or a group left behind would hold the stream forever.

The sink trims the stream itself at each write, so the input streams' `trim` is not for this key;
what the group still needs swept is the consumer names recorder processes left behind
(`forget_gone_consumers`, called periodically by the pipeline runner).
"""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis_streams.consumer_sweep import FORGET_IDLE_MS, forget_idle_consumers
from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.keys import Keys, transient_errors


class RedisSignalReader(RedisEventSource):
    def __init__(self, redis: Redis, namespace: str, pipeline: str, group: str, consumer: str,
                 forget_idle_ms: int = FORGET_IDLE_MS) -> None:
        super().__init__(redis, namespace, pipeline, group, consumer, forget_idle_ms)
        self._stream = Keys(namespace).signals(pipeline)

    async def join(self) -> None:
        """Create the group (at the stream's start) unless it exists: signals are kept for it from now."""
        with transient_errors("signals group create"):
            await self._ensure_group()

    async def leave(self) -> None:
        """Delete the group if it exists: what it has not recorded is no longer kept for it."""
        with transient_errors("signals group delete"), contextlib.suppress(ResponseError):  # no stream yet
            await self._redis.xgroup_destroy(self._stream, self._group)
        self._ready = False

    async def forget_gone_consumers(self) -> int:
        """Delete the group's consumer names that hold no entry and have been idle past the threshold
        (consumer_sweep.py): each recorder process start adds one. 0 while the group does not exist."""
        with transient_errors("signals consumer sweep"):
            try:
                return await forget_idle_consumers(self._redis, self._stream, self._group, self._forget_idle_ms)
            except ResponseError:  # no stream or no group yet: nothing to forget
                return 0
