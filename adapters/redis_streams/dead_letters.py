"""RedisDeadLetters: items in a hash, ordered by time in sorted sets (all, per pipeline).

Parking is one Lua call keyed by (kind, key), so a poison event redelivered to two consumers,
or an action given up twice, is one dead letter, not two.
The queue holds at most `max_letters`: past it, the oldest letters are dropped, counted and
logged. Unbounded, a producer that floods a stream with malformed events would fill Redis's
memory, and a full Redis stops every pipeline, job and schedule, not just the bad one.
An event letter is replayed by moving it to the replay stream of the pipeline's group
(replay_stream.py), in the same Lua call that forgets it: replayed once, never twice, never lost.
That call also refuses, keeping the letter, when the pipeline is listed in `dlq:deleted_pipelines`
(by PipelineService.delete, until it is saved again): its replay stream would have no reader.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, text, transient_errors
from adapters.redis_streams.replay_stream import replay_stream_key
from domain.types.errors import NotFound
from domain.types.streams import DeadLetter

# KEYS: items, by_key, index, pipeline index, counter. ARGV: kind:key, item JSON without id, at.
_PARK = """
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then
  id = 'dl-' .. redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[2], ARGV[1], id)
end
-- Spliced, not cjson re-encoded: cjson would round floats in the payload to 14 digits.
redis.call('HSET', KEYS[1], id, '{"id":"' .. id .. '",' .. string.sub(ARGV[2], 2))
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('ZADD', KEYS[4], ARGV[3], id)
return {id, redis.call('ZCARD', KEYS[3])}
"""

# KEYS: items, by_key, index, pipeline index, replay stream, deleted pipelines.
# ARGV: letter id, kind:key, raw text, event id, pipeline. 0: no such letter; -1: pipeline deleted.
_REDELIVER = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('SISMEMBER', KEYS[6], ARGV[5]) == 1 then return -1 end
redis.call('XADD', KEYS[5], '*', 'data', ARGV[3], 'id', ARGV[4])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
"""

_PAGE = 500  # letters read per round trip while listing
_EVICT_AT_MOST = 1000  # per park: bounds one call's work if the cap was lowered a lot
log = logging.getLogger(__name__)


class LetterNotFound(NotFound):
    code = "dead_letter_not_found"


class RedisDeadLetters:
    def __init__(self, redis: Redis, namespace: str, max_letters: int = 100_000) -> None:
        """`max_letters` 0: unbounded."""
        self._redis, self._k, self._max = redis, Keys(namespace), max_letters
        self._park = redis.register_script(_PARK)
        self._redeliver = redis.register_script(_REDELIVER)
        self._deleted = self._k.dlq("deleted_pipelines")

    async def park(self, kind: str, pipeline: str, key: str, cause: str, attempts: int,
                   payload: Mapping[str, Any]) -> DeadLetter:
        at = time.time()
        item = {"kind": kind, "pipeline": pipeline, "key": key, "cause": cause[:2000], "attempts": attempts,
                "payload": dict(payload), "at": at}
        keys = [self._k.dlq("items"), self._k.dlq("by_key"), self._k.dlq("index"), self._k.dlq(f"p:{pipeline}"),
                self._k.dlq("counter")]
        with transient_errors("dead letter park"):
            raw_id, held = await self._park(keys=keys, args=[f"{kind}:{key}", json.dumps(item, default=str), at])
            if self._max and int(held) > self._max:
                await self._evict_oldest(min(int(held) - self._max, _EVICT_AT_MOST))
        return DeadLetter.from_dict({**item, "id": text(raw_id)})

    async def _evict_oldest(self, count: int) -> None:
        ids = await self._redis.zrange(self._k.dlq("index"), 0, count - 1)
        raw = await self._redis.hmget(self._k.dlq("items"), ids)  # type: ignore[misc]
        letters = [DeadLetter.from_dict(json.loads(r)) for r in raw if r is not None]
        async with self._redis.pipeline(transaction=True) as pipe:
            for letter in letters:
                _forget(pipe, self._k, letter)
            pipe.zrem(self._k.dlq("index"), *ids)  # ids whose item is already gone, too
            pipe.incrby(self._k.dlq("evicted"), len(ids))
            await pipe.execute()
        log.warning("dead-letter queue over its limit of %d letters: dropped the %d oldest (%s); raise "
                    "MLPLANE_DLQ_MAX_LETTERS or replay/delete letters", self._max, len(ids),
                    ", ".join(sorted({d.pipeline for d in letters})) or "no pipeline")

    async def list(
        self, pipeline: str | None = None, kind: str | None = None, limit: int = 100
    ) -> Sequence[DeadLetter]:
        """Oldest first, read a page of the index at a time: a queue flooded with poison events must
        not load every letter into memory to answer for the first `limit` of them."""
        index = self._k.dlq(f"p:{pipeline}" if pipeline else "index")
        page = max(limit, _PAGE)
        found: list[DeadLetter] = []
        start = 0
        with transient_errors("dead letter list"):
            while True:
                ids = await self._redis.zrange(index, start, start + page - 1)
                raw = await self._redis.hmget(self._k.dlq("items"), ids) if ids else []  # type: ignore[misc]
                letters = (DeadLetter.from_dict(json.loads(r)) for r in raw if r is not None)
                found += [d for d in letters if kind is None or d.kind == kind]
                if len(found) >= limit or len(ids) < page:
                    return found[:limit]
                start += page

    async def get(self, letter_id: str) -> DeadLetter:
        with transient_errors("dead letter get"):
            raw = await self._redis.hget(self._k.dlq("items"), letter_id)  # type: ignore[misc]
        if raw is None:
            raise LetterNotFound(f"no dead letter {letter_id!r}", {"id": letter_id})
        return DeadLetter.from_dict(json.loads(raw))

    async def remove(self, letter_id: str) -> None:
        try:
            letter = await self.get(letter_id)
        except LetterNotFound:
            return
        with transient_errors("dead letter remove"):
            async with self._redis.pipeline(transaction=True) as pipe:
                _forget(pipe, self._k, letter)
                await pipe.execute()

    async def redeliver(self, letter: DeadLetter, group: str) -> bool:
        keys = [self._k.dlq("items"), self._k.dlq("by_key"), self._k.dlq("index"),
                self._k.dlq(f"p:{letter.pipeline}"), replay_stream_key(self._k.ns, group), self._deleted]
        args = [letter.id, f"{letter.kind}:{letter.key}", str(letter.payload["raw"]), str(letter.payload["id"]),
                letter.pipeline]
        with transient_errors("dead letter replay"):
            moved = int(await self._redeliver(keys=keys, args=args))
        if not moved:  # replayed or purged since it was read
            raise LetterNotFound(f"no dead letter {letter.id!r}", {"id": letter.id})
        return moved > 0

    async def refuse_replays(self, pipeline: str) -> None:
        with transient_errors("dead letter replay refusal"):
            await self._redis.sadd(self._deleted, pipeline)  # type: ignore[misc]

    async def accept_replays(self, pipeline: str) -> None:
        with transient_errors("dead letter replay acceptance"):
            await self._redis.srem(self._deleted, pipeline)  # type: ignore[misc]

    async def count(self, pipeline: str) -> int:
        with transient_errors("dead letter count"):
            return int(await self._redis.zcard(self._k.dlq(f"p:{pipeline}")))


def _forget(pipe: Any, keys: Keys, letter: DeadLetter) -> None:
    pipe.hdel(keys.dlq("items"), letter.id)
    pipe.hdel(keys.dlq("by_key"), f"{letter.kind}:{letter.key}")
    pipe.zrem(keys.dlq("index"), letter.id)
    pipe.zrem(keys.dlq(f"p:{letter.pipeline}"), letter.id)
