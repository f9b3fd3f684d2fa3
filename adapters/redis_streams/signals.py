"""RedisSignalSink: signals to the stream `signals:{pipeline}`, live stats in small keys.

The stream is cut back to about `maxlen` entries, but never past an entry a consumer group on it
(the signals_table recorder) has not acked: a recorder that falls behind keeps what it has not
recorded, and `backlog` tells the pipeline how far behind it is (the pipeline stops reading new
input past a bound, see domain/services/signal_backpressure.py).

Stats are shared by every consumer of a pipeline: counters in a hash, the latest latencies in
a capped list (p50/p99 over the last `_SAMPLES` events) and per-batch (time, size) marks for the
recent rate, and the consumers' pause marks and serving records (pause_marks.py), which expire
unless renewed. Reads compute the figures; nothing is kept in process memory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
from redis.asyncio import Redis
from redis.client import NEVER_DECODE

from adapters.redis_streams.keys import Keys, text, transient_errors
from adapters.redis_streams.pause_marks import MARK, live_reason, live_serving, serving_value
from domain.types.signal_batch import SignalBatch
from domain.types.streams import Signal

# One call per batch with one argument: the entries' JSON joined by newlines (orjson escapes any
# newline inside a string), split here. N XADDs in a pipeline, or N arguments, cost N command
# objects or N encodings in the client; this costs one.
# Then one trim for the batch, decided here from the groups' state as it is now (a floor cached
# in the client would miss a group created since): with no group, MAXLEN ~ cap; with groups,
# MINID ~ the oldest id one still needs (its oldest pending entry, else its last delivered one),
# with LIMIT = the entries beyond the cap, so the stream never gets shorter than the cap either.
# LIMIT also bounds the work of one call once a long-stalled recorder has caught up.
WRITE_LINES = """
local key, buffer, at, n = KEYS[1], ARGV[2], 1, 0
while at <= #buffer do
  local stop = string.find(buffer, '\\n', at, true) or (#buffer + 1)
  redis.call('XADD', key, '*', 'data', string.sub(buffer, at, stop - 1))
  at, n = stop + 1, n + 1
end
local excess = redis.call('XLEN', key) - tonumber(ARGV[1])
if excess <= 0 then return n end
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  if am ~= bm then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
local floor = nil
for _, info in ipairs(redis.call('XINFO', 'GROUPS', key)) do
  local group = {}
  for i = 1, #info, 2 do group[info[i]] = info[i + 1] end
  local need = group['last-delivered-id']
  if group['pending'] > 0 then need = redis.call('XPENDING', key, group['name'])[2] end
  if floor == nil or older(need, floor) then floor = need end
end
if floor == nil then
  redis.call('XTRIM', key, 'MAXLEN', '~', ARGV[1])
else
  redis.call('XTRIM', key, 'MINID', '~', floor, 'LIMIT', string.format('%d', math.min(excess, 10000)))
end
return n
"""


def lines(rows: Sequence[Any]) -> bytes:
    """The WRITE_LINES argument: each row as compact JSON (numpy values as numbers, unknown types as str)."""
    return b"\n".join([orjson.dumps(row, default=str, option=orjson.OPT_SERIALIZE_NUMPY) for row in rows])


def _rows(signals: Sequence[Signal]) -> list[Any]:
    return signals.rows() if isinstance(signals, SignalBatch) else [_row(s) for s in signals]


def _row(signal: Signal) -> Any:
    """The signal itself when orjson writes it exactly as to_dict (a dataclass with the same field
    order, a plain dict of features, a rounded latency); else to_dict."""
    plain = type(signal.features) is dict and round(signal.latency_ms, 3) == signal.latency_ms
    return signal if plain else signal.to_dict()


# One call per batch for all the stats. The latest latencies are one string of float32s, appended
# and cut to the last _SAMPLES here: a list of formatted numbers cost an encoding per event.
_RECORD = """
redis.call('HINCRBY', KEYS[1], 'events_processed', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'batches', 1)
redis.call('HSET', KEYS[1], 'model_version', ARGV[2])
local kept = redis.pcall('GET', KEYS[2])
if type(kept) ~= 'string' then kept = '' end  -- none yet, or the list an older version kept
kept = kept .. ARGV[3]
if #kept > tonumber(ARGV[5]) then kept = string.sub(kept, -tonumber(ARGV[5])) end
redis.call('SET', KEYS[2], kept)
redis.call('LPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
return 1
"""
_SAMPLES = 2000
_RATE_MARKS = 500
_RATE_WINDOW_S = 10.0


class RedisSignalSink:
    def __init__(self, redis: Redis, namespace: str, maxlen: int = 100_000) -> None:
        self._redis, self._keys, self._maxlen = redis, Keys(namespace), maxlen
        self._write, self._record = redis.register_script(WRITE_LINES), redis.register_script(_RECORD)
        self._mark = redis.register_script(MARK)

    async def write(self, pipeline: str, signals: Sequence[Signal]) -> None:
        if not signals:
            return
        with transient_errors("signal write"):
            await self._write(keys=[self._keys.signals(pipeline)],
                              args=[self._maxlen, lines(_rows(signals))])

    async def record_batch(self, pipeline: str, size: int, latencies_ms: Sequence[float], model_version: int) -> None:
        keys = [self._keys.stats(pipeline, p) for p in ("counters", "latency", "rate")]
        packed = np.asarray(latencies_ms[-_SAMPLES:], dtype="<f4").tobytes()
        with transient_errors("stats write"):
            await self._record(keys=keys, args=[size, model_version, packed, f"{time.time():.3f}:{size}",
                                                _SAMPLES * 4, _RATE_MARKS])

    async def record_serving(self, pipeline: str, holder: str, version: int | None, reason: str | None,
                             ttl_s: float) -> None:
        await self._set_mark(self._keys.stats(pipeline, "serving"), holder, serving_value(version, reason), ttl_s)

    async def forget_serving(self, pipeline: str, holder: str) -> None:
        await self._set_mark(self._keys.stats(pipeline, "serving"), holder, "", 1.0)
        with transient_errors("stats write"):  # nor do its last batches tell what is served any more
            await self._redis.hdel(self._keys.stats(pipeline, "counters"), "model_version")  # type: ignore[misc]

    async def backlog(self, pipeline: str) -> int:
        with transient_errors("signals backlog"):
            async with self._redis.pipeline(transaction=False) as pipe:
                _ask_backlog(pipe, self._keys.signals(pipeline))
                return _backlog(*await pipe.execute(raise_on_error=False))

    async def mark_paused(self, pipeline: str, holder: str, reason: str | None, ttl_s: float) -> None:
        await self._set_mark(self._keys.stats(pipeline, "pause_marks"), holder, reason or "", ttl_s)

    async def _set_mark(self, key: str, holder: str, value: str, ttl_s: float) -> None:  # "": delete it
        with transient_errors("consumer mark"):
            await self._mark(keys=[key], args=[holder, value, max(1, round(ttl_s * 1000))])

    async def stats(self, pipeline: str) -> Mapping[str, Any]:
        counters, samples, marks = (self._keys.stats(pipeline, p) for p in ("counters", "latency", "rate"))
        with transient_errors("stats read"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(counters)
                pipe.execute_command("GET", samples, **{NEVER_DECODE: True})  # binary
                pipe.lrange(marks, 0, -1)
                pipe.hgetall(self._keys.stats(pipeline, "pause_marks"))
                pipe.hgetall(self._keys.stats(pipeline, "serving"))
                pipe.time()
                _ask_backlog(pipe, self._keys.signals(pipeline))  # same round trip
                raw_counters, raw_samples, raw_marks, pauses, records, now, groups, length = \
                    await pipe.execute(raise_on_error=False)
        c = {text(k): int(v) for k, v in raw_counters.items()}
        # not bytes: nothing recorded yet, or an older version's list (replaced at the next batch)
        latency = np.frombuffer(raw_samples, dtype="<f4").astype(np.float64) if isinstance(raw_samples, bytes) \
            else np.zeros(0)
        processed, batches = c.get("events_processed", 0), c.get("batches", 0)
        rate, served = _rate([text(m) for m in raw_marks]), live_serving(records, now)
        batch_version = (c.get("model_version") or None) if rate else None  # for consumers that state nothing
        versions = list(served.versions) if served.live else [batch_version] if batch_version else []
        return {
            "events_processed": processed,
            "events_per_s": round(rate, 1),
            "batch_size_avg": round(processed / batches, 1) if batches else 0.0,
            "p50_ms": round(float(np.percentile(latency, 50)), 2) if latency.size else None,
            "p99_ms": round(float(np.percentile(latency, 99)), 2) if latency.size else None,
            "model_version": versions[-1] if versions else None,
            "model_versions": versions,  # every version a live consumer serves (several while they switch)
            "signals_backlog": _backlog(groups, length),
            "paused": served.reason or live_reason(pauses, now),  # nothing to serve, or backpressure
        }


def _ask_backlog(pipe: Any, stream: str) -> None:
    pipe.xinfo_groups(stream)
    pipe.xlen(stream)


def _backlog(groups: Any, length: Any) -> int:
    """Entries the slowest group has not acked: not delivered yet (lag) + delivered, not acked
    (pending); capped by the stream's length, which also stands in for a lag Redis cannot tell."""
    if not isinstance(groups, list):  # no stream yet
        return 0
    behind = (int(g["pending"]) + (int(length) if g.get("lag") is None else int(g["lag"])) for g in groups)
    return min(int(length), max(behind, default=0))


def _rate(marks: list[str]) -> float:
    now = time.time()
    recent = [(float(t), int(n)) for t, n in (m.split(":") for m in marks) if now - float(t) <= _RATE_WINDOW_S]
    if not recent:
        return 0.0
    span = max(1.0, now - min(t for t, _ in recent))
    return sum(n for _, n in recent) / span
