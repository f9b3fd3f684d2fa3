"""RedisSignalSink: signals to the capped stream `signals:{pipeline}`, live stats in small keys.

Stats are shared by every consumer of a pipeline: counters in a hash, the latest latencies in
a capped list (p50/p99 over the last `_SAMPLES` events) and per-batch (time, size) marks for the
recent rate. Reads compute the figures; nothing is kept in process memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, text, transient_errors
from domain.types.streams import Signal

# One call per batch: a pipeline of N XADDs costs N command objects and N parsed replies.
_WRITE = """
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[i])
end
return #ARGV - 1
"""
_SAMPLES = 2000
_RATE_MARKS = 500
_RATE_WINDOW_S = 10.0


class RedisSignalSink:
    def __init__(self, redis: Redis, namespace: str, maxlen: int = 100_000) -> None:
        self._redis, self._keys, self._maxlen = redis, Keys(namespace), maxlen
        self._write = redis.register_script(_WRITE)

    async def write(self, pipeline: str, signals: Sequence[Signal]) -> None:
        if not signals:
            return
        rows = [json.dumps(signal.to_dict(), default=str) for signal in signals]
        with transient_errors("signal write"):
            await self._write(keys=[self._keys.signals(pipeline)], args=[self._maxlen, *rows])

    async def record_batch(self, pipeline: str, size: int, latencies_ms: Sequence[float], model_version: int) -> None:
        counters, samples, marks = (self._keys.stats(pipeline, p) for p in ("counters", "latency", "rate"))
        with transient_errors("stats write"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(counters, "events_processed", size)
                pipe.hincrby(counters, "batches", 1)
                pipe.hset(counters, "model_version", model_version)
                pipe.lpush(samples, *[f"{v:.3f}" for v in latencies_ms[-_SAMPLES:]])
                pipe.ltrim(samples, 0, _SAMPLES - 1)
                pipe.lpush(marks, f"{time.time():.3f}:{size}")
                pipe.ltrim(marks, 0, _RATE_MARKS - 1)
                await pipe.execute()

    async def stats(self, pipeline: str) -> Mapping[str, Any]:
        counters, samples, marks = (self._keys.stats(pipeline, p) for p in ("counters", "latency", "rate"))
        with transient_errors("stats read"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(counters)
                pipe.lrange(samples, 0, -1)
                pipe.lrange(marks, 0, -1)
                raw_counters, raw_samples, raw_marks = await pipe.execute()
        c = {text(k): int(v) for k, v in raw_counters.items()}
        latency = np.array([float(v) for v in raw_samples]) if raw_samples else np.zeros(0)
        processed, batches = c.get("events_processed", 0), c.get("batches", 0)
        return {
            "events_processed": processed,
            "events_per_s": round(_rate([text(m) for m in raw_marks]), 1),
            "batch_size_avg": round(processed / batches, 1) if batches else 0.0,
            "p50_ms": round(float(np.percentile(latency, 50)), 2) if latency.size else None,
            "p99_ms": round(float(np.percentile(latency, 99)), 2) if latency.size else None,
            "model_version": c.get("model_version"),
        }


def _rate(marks: list[str]) -> float:
    now = time.time()
    recent = [(float(t), int(n)) for t, n in (m.split(":") for m in marks) if now - float(t) <= _RATE_WINDOW_S]
    if not recent:
        return 0.0
    span = max(1.0, now - min(t for t, _ in recent))
    return sum(n for _, n in recent) / span
