"""Pieces of the inference benchmark: models in a registry, a producer process, the consumer loops
(the bare transport loop, and InferenceService) run until a given number of signals exist, and the
naive and offline model calls the pipeline is compared with."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import redis as sync_redis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.onnx.model_server import OnnxModelServer
from adapters.redis.event_log import RedisEventLog
from adapters.redis_streams.dead_letters import RedisDeadLetters
from adapters.redis_streams.entity_state import RedisEntityStateStore
from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.signals import WRITE_LINES, RedisSignalSink, lines
from adapters.redis_streams.windows import RedisWindowStore
from adapters.system.clock import SystemClock
from benchmarks.models import library_calls
from domain.services.aliases import AliasService
from domain.services.inference import InferenceService
from domain.services.registry import ModelRegistry
from domain.services.serving import ModelWatcher
from domain.types.pipelines import PipelineConfig

COLUMNS = [f"f{i}" for i in range(8)]
GROUP = "bench"
# Model input i is this aggregation of field f<i> over the entity's last 20 events.
AGGS = ["last", "last", "mean", "mean", "std", "slope", "max", "percentile"]


def event_rows(n: int, seed: int = 0) -> list[str]:
    x = np.random.default_rng(seed).normal(size=(n, len(COLUMNS)))
    return [json.dumps({"entity_id": f"e{i % 200}", **dict(zip(COLUMNS, row, strict=True))})
            for i, row in enumerate(x.tolist())]


def _produce(url: str, key: str, n: int, rate: float, seed: int) -> None:
    client, rows = sync_redis.Redis.from_url(url), event_rows(n, seed)
    chunk = 100 if rate > 0 else 1000
    started = time.monotonic()
    for start in range(0, n, chunk):
        pipe = client.pipeline(transaction=False)
        for row in rows[start : start + chunk]:
            pipe.xadd(key, {"data": row})
        pipe.execute()
        if rate > 0 and (ahead := (start + chunk) / rate - (time.monotonic() - started)) > 0:
            time.sleep(ahead)


def produce(url: str, key: str, n: int, rate: float = 0.0, seed: int = 0) -> multiprocessing.Process:
    """XADD n events from another process (rate 0: as fast as possible); returns the running process."""
    process = multiprocessing.get_context("spawn").Process(target=_produce, args=(url, key, n, rate, seed))
    process.start()
    return process


async def bare_loop(redis: aioredis.Redis, stream: str, signals: str, n: int) -> None:
    """The ceiling: XREADGROUP, JSON parse, XADD one signal per event, XACK — no features, no model.
    Same JSON library (orjson) and same signal write (one WRITE_LINES call per batch) as the pipeline."""
    await _group(redis, stream)
    write, done = redis.register_script(WRITE_LINES), 0
    while done < n:
        reply = await redis.xreadgroup(GROUP, "bare", {stream: ">"}, count=1000, block=100)
        for _stream, items in reply or []:
            rows = []
            for entry_id, fields in items:
                body = orjson.loads(fields[b"data"])
                latency = time.time() * 1000 - int(entry_id.split(b"-")[0])
                rows.append({"event_id": entry_id.decode(), "entity": body["entity_id"], "latency_ms": latency})
            await _write_and_ack(redis, write, stream, signals, rows, items)
            done += len(items)


async def _write_and_ack(redis: aioredis.Redis, write: Any, stream: str, signals: str, rows: list[Any],
                         items: list[Any]) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        await write(keys=[signals], args=[100_000, lines(rows)], client=pipe)
        pipe.xack(stream, GROUP, *[i for i, _ in items])
        await pipe.execute()


async def _group(redis: aioredis.Redis, stream: str) -> None:
    try:
        await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except ResponseError as exc:  # the half-load run reuses the group: it reads only new entries
        if "BUSYGROUP" not in str(exc):
            raise


class Registry:
    def __init__(self, root: Path) -> None:
        store = FilesystemArtifactStore(root)
        self.registry = ModelRegistry(store, SystemClock())
        self.aliases = AliasService(store, self.registry, SystemClock())

    async def publish(self, name: str, algorithm: str, files: dict[str, bytes]) -> None:
        spec = {"task": "classification", "source": {"table": "t", "features": COLUMNS, "label": "y"}}
        await self.registry.publish(name, 1, files, job_id="bench", algorithm=algorithm, spec=spec, metrics={},
                                    data={}, library_versions={}, created_at="2026-01-01T00:00:00Z")
        await self.aliases.move(name, "production", 1, reason="bench", by="bench")


def service(redis: aioredis.Redis, ns: str, registry: Registry, model: str, backend: Any) -> InferenceService:
    config = PipelineConfig.from_dict({
        "name": model, "stream": model, "model": model, "batch_size": 1000, "max_wait_ms": 5,
        "window": {"events": 20},
        "features": [{"field": c, "agg": agg, "name": c, **({"q": 90} if agg == "percentile" else {})}
                     for c, agg in zip(COLUMNS, AGGS, strict=True)]})
    clock = SystemClock()
    watcher = ModelWatcher(config, registry.registry, registry.aliases, OnnxModelServer(), backend,
                           RedisEventLog(redis, ns), clock)
    return InferenceService(config, source=RedisEventSource(redis, ns, model, f"pipeline:{model}", "bench"),
                            windows=RedisWindowStore(redis, ns), states=RedisEntityStateStore(redis, ns),
                            signals=RedisSignalSink(redis, ns), dead_letters=RedisDeadLetters(redis, ns),
                            queue=None,  # type: ignore[arg-type]  # no rules: nothing is enqueued
                            watcher=watcher, clock=clock)


async def run_service(svc: InferenceService, redis: aioredis.Redis, signals: str, n: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(svc.run(stop))
    while await redis.xlen(signals) < n:
        await asyncio.sleep(0.01)
    stop.set()
    await task


async def latencies(redis: aioredis.Redis, signals: str) -> list[float]:
    rows = await redis.xrange(signals)
    return [json.loads(fields[b"data"])["latency_ms"] / 1000 for _id, fields in rows]


def onnx_call(data: bytes) -> Any:
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x.astype(np.float32)})


def naive_call(algorithm: str, model: Any, files: dict[str, bytes]) -> Any:
    if algorithm != "keras_mlp":
        return library_calls(algorithm, model.inner if hasattr(model, "inner") else model, files)["library"]
    import keras

    path = Path(tempfile.mkdtemp(prefix="mlplane-bench-"), "model.keras")
    path.write_bytes(files["model.keras"])
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    return lambda x: loaded.predict(x.astype(np.float32), verbose=0)  # the naive call the issue names
