"""Training jobs on hostile tables through an in-process container (DuckDB, real Redis, arq workers, a
real fit pool), and how to judge their ends: `completed` with finite metrics (strict JSON) in the
events and the manifest, or `failed` with a cause naming the problem: never an internal error or a
library's own text, never a hang. Bad specs must be a 422 at submit instead."""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from domain.services.retrain_policy import RetrainRequest
from domain.types.errors import InvalidSpec
from domain.types.events import Event
from domain.types.training import TrainingSpec
from entrypoints.api.errors import from_exception
from entrypoints.container import Container

JOB_TIMEOUT_S = 60.0  # a bound, not an expectation: every case here ends in a few seconds


@dataclass
class Outcome:
    events: list[Event]

    @property
    def last(self) -> Event:
        return self.events[-1]

    def data(self, kind: str) -> dict[str, Any]:
        (event,) = [e for e in self.events if e.type == kind]
        return dict(event.data)

    def fit_reports(self) -> list[dict[str, Any]]:
        return [dict(e.data) for e in self.events if e.type == "progress" and e.data.get("stage") == "fit"]

    def describe(self) -> str:
        return " | ".join(f"{e.type} {json.dumps(e.data, default=str)[:300]}" for e in self.events)


def spec(table: str, **overrides: Any) -> dict[str, Any]:
    source = {"table": table, "features": overrides.pop("features", ["f0", "f1"]), "label": overrides.pop("label", "y")}
    return {"model_name": "hostile", "algorithm": "decision_tree", "task": "classification", "source": source,
            **overrides}


async def new_table(container: Container, rows: pa.Table) -> str:
    name = f"t_{uuid.uuid4().hex[:10]}"
    await container.warehouse().append(name, rows)
    return name


async def train(container: Container, rows: pa.Table, **overrides: Any) -> Outcome:
    """Write `rows` to a new DuckDB table, submit a job on it, and wait (bounded) for its end."""
    return await train_on(container, await new_table(container, rows), **overrides)


async def train_on(container: Container, table: str, **overrides: Any) -> Outcome:
    record = await container.training().submit(TrainingSpec.from_dict(spec(table, **overrides)))
    return await finished(container, record.id)


async def retrain(container: Container, model: str) -> Outcome:
    record = await container.retrain_jobs().request(RetrainRequest(model))
    return await finished(container, record.id)


async def finished(container: Container, job_id: str) -> Outcome:
    seen: list[Event] = []
    try:
        async with asyncio.timeout(JOB_TIMEOUT_S):
            async for event in container.events().subscribe(f"job:{job_id}"):
                seen.append(event)
                if event.is_terminal:
                    return Outcome(seen)
    except TimeoutError:
        pytest.fail(f"job {job_id} did not end within {JOB_TIMEOUT_S} s: {Outcome(seen).describe()}")
    raise AssertionError("the event stream ended before a terminal event")


def expect_failed(outcome: Outcome, *hints: str) -> str:
    assert outcome.last.type == "failed", outcome.describe()
    message = str(outcome.last.data["message"])
    assert "internal error" not in message and "Traceback" not in message, message
    for hint in hints:
        assert hint.lower() in message.lower(), f"{hint!r} not in {message!r}"
    return message


async def expect_completed(container: Container, outcome: Outcome) -> dict[str, float]:
    """The metrics of a completed job, after checking they are finite wherever they are published."""
    assert outcome.last.type == "completed", outcome.describe()
    for event in outcome.events:
        json.dumps(dict(event.data), allow_nan=False)  # NaN or Infinity: not JSON for most clients
    metrics = outcome.data("evaluated")["metrics"]
    assert all(math.isfinite(value) for value in metrics.values()), metrics
    result = outcome.last.data
    manifest = await container.registry().get_version(result["model_name"], result["version"])
    json.dumps(manifest.to_dict(), allow_nan=False)
    return dict(metrics)


async def classes_learned(container: Container, outcome: Outcome) -> list[Any]:
    """The classes the stored scikit-learn model can predict."""
    result = outcome.last.data
    manifest, files = await container.registry().load_files(result["model_name"], result["version"])
    model = await container.backend().deserialize(manifest.algorithm, files)
    return sorted(model.inner.classes_.tolist())  # type: ignore[attr-defined]


async def expect_refused(container: Container, raw: dict[str, Any], *hints: str) -> None:
    """A 422 at submit whose message names each hint."""
    with pytest.raises(InvalidSpec) as refused:
        await container.training().submit(TrainingSpec.from_dict(raw))
    assert from_exception(refused.value).status == 422
    for hint in hints:
        assert hint.lower() in refused.value.message.lower(), refused.value.message


def data(rows: int = 60) -> dict[str, Any]:
    """A learnable table: y is 1 exactly when f0 > 0."""
    rng = np.random.default_rng(3)
    f0 = rng.normal(size=rows)
    return {"f0": f0, "f1": rng.normal(size=rows), "y": (f0 > 0).astype("int64")}
