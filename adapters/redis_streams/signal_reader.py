"""RedisSignalReader: a consumer of a consumer group over `signals:{pipeline}` (the SignalSource port).

The signal sink writes each signal as one field `data` (the JSON of Signal.to_dict()), the same
layout as an input stream, so this is the input streams' reader pointed at the signals key: it
hands the text on as StreamEntry.raw (the domain parses it), re-reads its own pending entries
after a restart before taking new ones, and creates the group at id 0, so a table configured
later still receives what the stream holds.
"""

from __future__ import annotations

from redis.asyncio import Redis

from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.keys import Keys


class RedisSignalReader(RedisEventSource):
    def __init__(self, redis: Redis, namespace: str, pipeline: str, group: str, consumer: str) -> None:
        super().__init__(redis, namespace, pipeline, group, consumer)
        self._stream = Keys(namespace).signals(pipeline)
