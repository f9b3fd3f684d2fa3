"""The steps of training one model, shared by training jobs and retraining jobs:
load + clean + split, fit with progress, evaluate, and store a registered version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from domain.services import data_prep, training_data
from domain.services.job_events import JobEvents
from domain.services.registry import ModelRegistry
from domain.types.dataset import Dataset
from domain.types.events import EventType
from domain.types.models import Manifest
from domain.types.training import TrainingSpec
from ports.clock import Clock
from ports.model_backend import ModelBackend
from ports.warehouse import Warehouse

EXPORT_CHECK_ROWS = 2048  # holdout rows on which exports (ONNX) must agree with the native model
CancelCheck = Callable[[], Awaitable[None]]


class PreparedData:
    def __init__(self, split: data_prep.Split, report: data_prep.CleaningReport) -> None:
        self.train, self.holdout, self.split, self.report = split.train, split.holdout, split.record, report


class Trainer:
    def __init__(self, *, warehouse: Warehouse, backend: ModelBackend, registry: ModelRegistry, clock: Clock) -> None:
        self._warehouse = warehouse
        self.backend = backend
        self.registry = registry
        self._clock = clock

    async def prepare(self, spec: TrainingSpec, events: JobEvents, check_cancel: CancelCheck,
                      keep_for_training: Sequence[str] = ()) -> PreparedData:
        """Load, clean and split; `keep_for_training`: see data_prep.split."""
        await events.progress("load", 0.0)
        arrow = await self._warehouse.read(spec.source.table)
        frame = await anyio.to_thread.run_sync(training_data.to_frame, arrow, spec)
        used, report = await anyio.to_thread.run_sync(data_prep.clean, frame, spec)
        await events.emit(EventType.DATA_LOADED, report.to_dict())
        await check_cancel()
        split = await anyio.to_thread.run_sync(data_prep.split, used, spec, report, keep_for_training)
        return PreparedData(split, report)

    async def fit(self, spec: TrainingSpec, train: Dataset, events: JobEvents, check_cancel: CancelCheck) -> object:
        last = {"fraction": 0.0}

        async def progress(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
            last["fraction"] = fraction
            await events.progress(stage, fraction, extra)
            await check_cancel()

        await progress("fit", 0.0, {"train_rows": train.rows})
        model = await self.backend.fit(spec, train, progress)
        if last["fraction"] < 1.0:  # backends that fit in one stage do not report the end
            await events.progress("fit", 1.0)
        return model

    async def evaluate(
        self, model: object, spec: TrainingSpec, holdout: Dataset, events: JobEvents
    ) -> dict[str, float]:
        metrics = await self.backend.evaluate(model, spec, holdout)
        await events.emit(EventType.EVALUATED, {"metrics": metrics, "holdout_rows": holdout.rows})
        return metrics

    async def store(
        self, job_id: str, spec: TrainingSpec, model: object, metrics: Mapping[str, float],
        prepared: PreparedData, events: JobEvents, extra: Mapping[str, Any] | None = None,
    ) -> Manifest:
        sample: npt.NDArray[np.float64] = prepared.holdout.features[:EXPORT_CHECK_ROWS]
        serialized = await self.backend.serialize(model, sample)
        version = await self.registry.claim_version(spec.model_name, job_id)
        data = {"table": spec.source.table, "columns": list(spec.source.columns), **prepared.report.to_dict(),
                "split": prepared.split.to_dict()}
        manifest = await self.registry.publish(
            spec.model_name, version, serialized.files,
            job_id=job_id, algorithm=spec.algorithm, spec=spec.to_dict(),
            metrics={**metrics, "holdout_rows": prepared.holdout.rows}, data=data,
            library_versions=self.backend.library_versions(),
            created_at=self._clock.now().isoformat().replace("+00:00", "Z"),
            extra={"exports": dict(serialized.notes), **(extra or {})},
        )
        uri = self.registry.uri(spec.model_name, version)
        await events.emit(EventType.ARTIFACT_STORED, {"uri": uri, "bytes": manifest.total_bytes})
        return manifest

    async def finished_version(self, model: str, job_id: str) -> Manifest | None:
        """The complete version this job registered before a crash, if any."""
        version = await self.registry.version_of_job(model, job_id)
        return None if version is None else await self.registry.find_manifest(model, version)
