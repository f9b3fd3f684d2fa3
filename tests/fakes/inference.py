"""In-memory fakes of the streaming-inference ports (windows, state, signals, pipelines, serving); the DLQ's
is in dead_letters.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from domain.services.rules import decide
from domain.types.errors import NotFound
from domain.types.events import event_id_key
from domain.types.models import Manifest
from domain.types.pipelines import PipelineConfig
from domain.types.rules import ActionSpec, RuleInput
from domain.types.streams import EntityState, ParsedEvent, Prediction, Signal
from ports.window_store import Window


class InMemoryWindowStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[tuple[str, float, list[float]]]] = {}

    async def append(self, pipeline: str, events: Sequence[ParsedEvent], max_events: int,
                     max_age_s: float | None, keep_from: str | None = None) -> list[Window]:
        """Keeps exactly what the windows need: the last `max_events` rows (less those older than
        `max_age_s`), and every row from `keep_from` on with the `max_events` before it."""
        out: dict[int, Window] = {}
        floor = event_id_key(keep_from) if keep_from else None
        order = sorted(range(len(events)), key=lambda i: (events[i].entity, event_id_key(events[i].position)))
        for index in order:  # an entity's events in position order, as the Redis store applies them
            e = events[index]
            rows = self.rows.setdefault((pipeline, e.entity), [])
            key = event_id_key(e.position)
            if not rows or event_id_key(rows[-1][0]) < key:
                rows.append((e.position, e.ts, list(e.values)))
                cut = max(0, len(rows) - max_events)
                while max_age_s is not None and cut < len(rows) - 1 and rows[cut][1] < e.ts - max_age_s:
                    cut += 1
                if floor is not None:
                    first = next((n for n, r in enumerate(rows) if event_id_key(r[0]) >= floor), len(rows))
                    cut = min(cut, max(0, first - max_events))
                del rows[:cut]
            upto = [r for r in rows if event_id_key(r[0]) <= key][-max_events:]
            if max_age_s is not None:
                upto = [r for r in upto if r[1] >= e.ts - max_age_s] or upto[-1:]
            out[index] = [(ts, values) for _, ts, values in upto]
        return [out[i] for i in range(len(events))]

    async def clear(self, pipeline: str) -> None:
        self.rows = {k: v for k, v in self.rows.items() if k[0] != pipeline}


class InMemoryEntityStateStore:
    """`rules.decide` itself over each input; one process, so nothing can interleave."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], EntityState] = {}

    async def fire(self, pipeline: str, inputs: Sequence[RuleInput], now: float) -> list[list[str]]:
        out = []
        for item in inputs:
            key = (pipeline, item.entity)
            fired, self.states[key] = decide(self.states.get(key, EntityState()), item, now)
            out.append(fired)
        return out


class InMemorySignalSink:
    """`recorded[pipeline]`: how many signals its recorder has acked (None: no recorder), so the
    backlog is what was written since; `backlog_calls` counts how often it was asked. `pause_marks`
    holds each pipeline's marks by holder, with their ttl_s, and `serving` its serving records by
    holder, (version, reason, ttl_s); neither expires here (no clock). Stats read them as Redis's do."""

    def __init__(self) -> None:
        self.signals: dict[str, list[Signal]] = {}
        self.batches: list[int] = []
        self.serving: dict[str, dict[str, tuple[int | None, str | None, float]]] = {}
        self.batch_versions: dict[str, int] = {}
        self.fail_next = 0  # simulate a crash after predicting, before the ack
        self.recorded: dict[str, int | None] = {}
        self.backlog_calls = 0
        self.pause_marks: dict[str, dict[str, tuple[str, float]]] = {}

    async def write(self, pipeline: str, signals: Sequence[Signal]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("simulated crash while writing signals")
        self.signals.setdefault(pipeline, []).extend(signals)

    async def record_batch(self, pipeline: str, size: int, latencies_ms: Sequence[float], model_version: int) -> None:
        self.batches.append(size)
        self.batch_versions[pipeline] = model_version

    async def record_serving(self, pipeline: str, holder: str, version: int | None, reason: str | None,
                             ttl_s: float) -> None:
        records = self.serving.setdefault(pipeline, {})
        records.pop(holder, None)  # last renewed last, as the newest expiry in Redis
        records[holder] = (version, reason, ttl_s)

    async def forget_serving(self, pipeline: str, holder: str) -> None:
        self.serving.get(pipeline, {}).pop(holder, None)
        self.batch_versions.pop(pipeline, None)

    async def backlog(self, pipeline: str) -> int:
        self.backlog_calls += 1
        recorded = self.recorded.get(pipeline)
        return 0 if recorded is None else len(self.signals.get(pipeline, [])) - recorded

    async def mark_paused(self, pipeline: str, holder: str, reason: str | None, ttl_s: float) -> None:
        marks = self.pause_marks.setdefault(pipeline, {})
        if reason is None:
            marks.pop(holder, None)
        else:
            marks[holder] = (reason, ttl_s)

    async def stats(self, pipeline: str) -> Mapping[str, Any]:
        backlog = await self.backlog(pipeline)
        marks = list(self.pause_marks.get(pipeline, {}).values())
        records = list(self.serving.get(pipeline, {}).values())
        served = [version for version, _, _ in records if version]
        why = next((reason for version, reason, _ in reversed(records) if reason), None) if not served else None
        batch = self.batch_versions.get(pipeline)
        versions = sorted(set(served)) if records else [batch] if batch else []
        return {"events_processed": sum(self.batches), "batch_size_avg": float(np.mean(self.batches or [0])),
                "model_version": versions[-1] if versions else None, "model_versions": versions,
                "signals_backlog": backlog,
                "paused": why or (marks[-1][0] if marks else None)}


class InMemoryPipelineStore:
    def __init__(self) -> None:
        self.configs: dict[str, PipelineConfig] = {}

    async def put(self, config: PipelineConfig) -> None:
        self.configs[config.name] = config

    async def get(self, name: str) -> PipelineConfig:
        if name not in self.configs:
            raise NotFound(f"no pipeline {name}")
        return self.configs[name]

    async def list(self) -> list[PipelineConfig]:
        return sorted(self.configs.values(), key=lambda c: c.name)

    async def delete(self, name: str) -> None:
        self.configs.pop(name, None)


class InMemoryActionLedger:
    def __init__(self) -> None:
        self.done: set[str] = set()

    async def is_done(self, key: str) -> bool:
        return key in self.done

    async def mark_done(self, key: str, ttl_s: int) -> None:
        self.done.add(key)


class RecordingExecutor:
    """Counts side effects per key; `failures` makes the next calls raise the given errors."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failures: list[Exception] = []

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.calls.append(key)


class SumPredictor:
    """score = the first feature; label = score > 0.5. `version` tells signals apart."""

    def __init__(self, version: int) -> None:
        self.version = version

    async def predict(self, features: np.ndarray) -> list[Prediction]:
        return [Prediction(float(v), int(v > 0.5)) for v in features[:, 0]]


class FakeModelServer:
    async def load(self, manifest: Manifest, files: Mapping[str, bytes]) -> SumPredictor:
        return SumPredictor(manifest.version)
