"""Builds an InferenceService over in-memory fakes, with a model version registered and aliased."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.services.aliases import AliasService
from domain.services.inference import InferenceService
from domain.services.registry import ModelRegistry
from domain.services.serving import ModelWatcher
from domain.types.pipelines import PipelineConfig
from tests.fakes.artifact_store import InMemoryArtifactStore
from tests.fakes.clock import FakeClock
from tests.fakes.dead_letters import InMemoryDeadLetters
from tests.fakes.event_log import InMemoryEventLog
from tests.fakes.inference import (
    FakeModelServer,
    InMemoryEntityStateStore,
    InMemorySignalSink,
    InMemoryWindowStore,
)
from tests.fakes.model_backend import MajorityModelBackend
from tests.fakes.streams import InMemoryEventSource, InMemoryStreams
from tests.fakes.task_queue import InMemoryTaskQueue

FEATURES = ["x_last", "x_mean"]


def pipeline_config(**overrides: Any) -> PipelineConfig:
    raw = {"name": "p1", "stream": "events", "entity_key": "entity_id", "model": "m",
           "features": [{"field": "x", "agg": "last", "name": "x_last"}, {"field": "x", "agg": "mean"}],
           "window": {"events": 3}, "batch_size": 10, "max_wait_ms": 5,
           "rules": [{"name": "high", "when": [{"on": "score", "op": ">", "value": 0.5}], "actions": ["hook"]}],
           "actions": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/hook"}], **overrides}
    return PipelineConfig.from_dict(raw)


@dataclass
class InferenceWorld:
    streams: InMemoryStreams
    windows: InMemoryWindowStore
    states: InMemoryEntityStateStore
    signals: InMemorySignalSink
    dlq: InMemoryDeadLetters
    queue: InMemoryTaskQueue
    events: InMemoryEventLog
    registry: ModelRegistry
    aliases: AliasService
    clock: FakeClock
    artifacts: InMemoryArtifactStore

    async def publish_version(self, version: int, features: list[str] | None = None, alias: bool = True) -> None:
        spec = {"task": "classification", "source": {"table": "t", "features": features or FEATURES, "label": "y"}}
        await self.registry.publish("m", version, {"model.json": b"{}"}, job_id=f"job{version}",
                                    algorithm="majority", spec=spec, metrics={}, data={}, library_versions={},
                                    created_at="2026-01-01T00:00:00Z")
        if alias:
            await self.aliases.move("m", "production", version, reason="test", by="test")

    def service(self, config: PipelineConfig, consumer: str = "c1", **options: Any) -> InferenceService:
        """`options`: more InferenceService keywords (max_signal_backlog, backlog_check_s)."""
        watcher = ModelWatcher(config, self.registry, self.aliases, FakeModelServer(), MajorityModelBackend(),
                               self.events, self.clock, check_every_s=0.0)
        source = InMemoryEventSource(self.streams, config.stream, f"pipeline:{config.name}", consumer)
        return InferenceService(config, source=source, windows=self.windows, states=self.states,
                                signals=self.signals, dead_letters=self.dlq, queue=self.queue, watcher=watcher,
                                clock=self.clock, claim_idle_ms=0, **options)


async def inference_world() -> InferenceWorld:
    artifacts, clock = InMemoryArtifactStore(), FakeClock()
    registry = ModelRegistry(artifacts, clock)
    world = InferenceWorld(InMemoryStreams(), InMemoryWindowStore(), InMemoryEntityStateStore(),
                           InMemorySignalSink(), InMemoryDeadLetters(), InMemoryTaskQueue(), InMemoryEventLog(),
                           registry, AliasService(artifacts, registry, clock), clock, artifacts)
    await world.publish_version(1)
    return world
