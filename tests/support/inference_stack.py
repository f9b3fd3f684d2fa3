"""The real streaming stack for integration tests and benchmarks: Redis adapters, ONNX serving, a
scikit-learn decision tree (with its verified model.onnx) registered under `production`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from sklearn.tree import DecisionTreeClassifier

from adapters.arq.task_queue import ArqTaskQueue
from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.onnx.model_server import OnnxModelServer
from adapters.redis.event_log import RedisEventLog
from adapters.redis_streams.dead_letters import RedisDeadLetters
from adapters.redis_streams.entity_state import RedisEntityStateStore
from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.pipeline_store import RedisPipelineStore
from adapters.redis_streams.producer import RedisStreamProducer
from adapters.redis_streams.signals import RedisSignalSink
from adapters.redis_streams.windows import RedisWindowStore
from adapters.sklearn.model_files import write_files
from adapters.system.clock import SystemClock
from domain.services.aliases import AliasService
from domain.services.inference import InferenceService
from domain.services.pipelines import PipelineService, group_name
from domain.services.registry import ModelRegistry
from domain.services.serving import ModelWatcher
from domain.types.pipelines import PipelineConfig
from tests.fakes.model_backend import MajorityModelBackend
from tests.fakes.task_queue import InMemoryTaskQueue

FEATURES = ["f0", "f1", "f2"]


def tree_files(seed: int = 0, depth: int = 4, flip: bool = False) -> dict[str, bytes]:
    """A decision tree on f0..f2 (label: f0 + f1 > 0, or its opposite) with a verified model.onnx."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 3))
    y = ((x[:, 0] + x[:, 1] > 0) != flip).astype(int)
    files, _notes = write_files(DecisionTreeClassifier(max_depth=depth, random_state=seed).fit(x, y), x[:200])
    assert "model.onnx" in files
    return files


@dataclass
class Stack:
    redis: aioredis.Redis
    namespace: str
    artifacts: FilesystemArtifactStore
    registry: ModelRegistry
    aliases: AliasService
    pipelines: PipelineService
    producer: RedisStreamProducer
    signals: RedisSignalSink
    dead_letters: RedisDeadLetters
    events: RedisEventLog

    async def publish(self, version: int, features: list[str] | None = None, **tree: Any) -> None:
        spec = {"task": "classification", "algorithm": "decision_tree",
                "source": {"table": "t", "features": features or FEATURES, "label": "y"}}
        await self.registry.publish("tree", version, tree_files(**tree), job_id=f"job{version}",
                                    algorithm="decision_tree", spec=spec, metrics={}, data={}, library_versions={},
                                    created_at="2026-01-01T00:00:00Z")
        await self.aliases.move("tree", "production", version, reason="test", by="test")

    def service(self, config: PipelineConfig, consumer: str, queue: Any = None,
                claim_idle_ms: int = 1000, **options: Any) -> InferenceService:
        """`options`: more InferenceService keywords (max_signal_backlog, backlog_check_s)."""
        clock = SystemClock()
        watcher = ModelWatcher(config, self.registry, self.aliases, OnnxModelServer(), MajorityModelBackend(),
                               self.events, clock, check_every_s=0.05)
        source = RedisEventSource(self.redis, self.namespace, config.stream, group_name(config.name), consumer)
        return InferenceService(config, source=source, windows=RedisWindowStore(self.redis, self.namespace),
                                states=RedisEntityStateStore(self.redis, self.namespace), signals=self.signals,
                                dead_letters=self.dead_letters, queue=queue or InMemoryTaskQueue(),
                                watcher=watcher, clock=clock, claim_idle_ms=claim_idle_ms, **options)

    async def signal_rows(self, pipeline: str) -> list[dict[str, Any]]:
        import json

        entries = await self.redis.xrange(f"{self.namespace}signals:{pipeline}")
        return [json.loads(fields[b"data"]) for _id, fields in entries]


def build_stack(redis: aioredis.Redis, namespace: str, data_dir: Path) -> Stack:
    artifacts = FilesystemArtifactStore(data_dir / "artifacts")
    clock = SystemClock()
    registry = ModelRegistry(artifacts, clock)
    aliases = AliasService(artifacts, registry, clock)
    producer, signals = RedisStreamProducer(redis, namespace), RedisSignalSink(redis, namespace)
    dead_letters = RedisDeadLetters(redis, namespace)
    pipelines = PipelineService(RedisPipelineStore(redis, namespace), registry, aliases, signals, producer,
                                dead_letters)
    return Stack(redis, namespace, artifacts, registry, aliases, pipelines, producer, signals, dead_letters,
                 RedisEventLog(redis, namespace))


async def published_stack(redis: aioredis.Redis, namespace: str, data_dir: Path) -> Stack:
    """A stack whose model has version 1 published and under `production`, ready to serve."""
    stack = build_stack(redis, namespace, data_dir)
    await stack.publish(1)
    return stack


@asynccontextmanager
async def actions_queue(redis_url: str, namespace: str) -> AsyncIterator[ArqTaskQueue]:
    """The arq `actions` queue the pipelines enqueue their side effects on, closed after."""
    pool = ArqRedis.from_url(redis_url)
    try:
        yield ArqTaskQueue(pool, namespace)
    finally:
        await pool.aclose()


async def drain(*services: InferenceService) -> None:
    """Everything the services' sources hold: claims first (a claim round also joins a replay stream),
    then reads until nothing is left."""
    for service in services:
        await service.process(await service.source_claim())
        while entries := await service.collect():
            await service.process(entries)


def pipeline(name: str = "p1", **overrides: Any) -> PipelineConfig:
    raw = {"name": name, "stream": f"{name}-events", "entity_key": "entity_id", "model": "tree",
           "features": FEATURES, "window": {"events": 5}, "batch_size": 50, "max_wait_ms": 20, **overrides}
    return PipelineConfig.from_dict(raw)


def reporting_watcher(stack: Stack, config: PipelineConfig, consumer: str) -> ModelWatcher:
    """One consumer's watcher, wired as the pipeline runner wires it: reporting to the pipeline's stats."""
    return ModelWatcher(config, stack.registry, stack.aliases, OnnxModelServer(), MajorityModelBackend(),
                        stack.events, SystemClock(), check_every_s=0.0, signals=stack.signals, holder=consumer)
