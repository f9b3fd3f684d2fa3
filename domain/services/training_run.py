"""Runs one training job: load, clean, split, fit, evaluate, store, register.

Idempotent, because the queue delivers at least once: a re-run of a finished job only repairs
its terminal event, and a re-run after a crash reuses the version the job already claimed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from domain.services import data_prep
from domain.services.job_events import JobEvents
from domain.services.registry import ModelRegistry
from domain.types.dataset import Dataset
from domain.types.errors import DomainError, JobCancelled, PermanentError, TransientError
from domain.types.events import EventType
from domain.types.jobs import JobRecord, JobState, sources_for
from domain.types.training import TrainingSpec
from ports.clock import Clock
from ports.event_log import EventLog
from ports.job_store import JobStore
from ports.model_backend import ModelBackend
from ports.warehouse import Warehouse

log = logging.getLogger(__name__)
EXPORT_CHECK_ROWS = 2048  # holdout rows on which exports (ONNX) must agree with the native model


class TrainingRunner:
    def __init__(
        self,
        *,
        warehouse: Warehouse,
        backend: ModelBackend,
        registry: ModelRegistry,
        jobs: JobStore,
        events: EventLog,
        clock: Clock,
    ) -> None:
        self._warehouse = warehouse
        self._backend = backend
        self._registry = registry
        self._jobs = jobs
        self._log = events
        self._clock = clock

    async def run(self, job_id: str) -> None:
        """Run or resume the job. TransientError propagates so the queue can retry it."""
        record = await self._jobs.get(job_id)
        events = JobEvents(self._log, self._clock, job_id)
        if record.is_terminal:
            await self._repair_terminal_event(record, events)
            return
        try:
            record = await self._start(record, events)
            await self._execute(record, events)
        except JobCancelled:
            await self._finish(job_id, events, JobState.CANCELLED, EventType.CANCELLED, {})
        except (DomainError, PermanentError) as exc:
            await self.fail(job_id, exc.message)
        except TransientError:
            raise
        except Exception as exc:  # a bug must still end the job with a readable cause, not a hang
            log.exception("training job %s crashed", job_id)
            await self.fail(job_id, f"internal error: {type(exc).__name__}: {exc}")

    async def fail(self, job_id: str, message: str) -> None:
        """End the job as failed (also used when retries of a transient error run out)."""
        events = JobEvents(self._log, self._clock, job_id)
        await self._finish(job_id, events, JobState.FAILED, EventType.FAILED, {"message": message}, message)

    async def _start(self, record: JobRecord, events: JobEvents) -> JobRecord:
        if record.cancel_requested:
            raise JobCancelled("cancelled before start")
        changes = {"attempts": record.attempts + 1, "started_at": self._clock.now()}
        record = await self._jobs.transition(record.id, JobState.RUNNING, sources_for(JobState.RUNNING), changes)
        await events.emit(EventType.STARTED, {"attempt": record.attempts})
        return record

    async def _execute(self, record: JobRecord, events: JobEvents) -> None:
        spec = TrainingSpec.from_dict(record.spec)
        version = await self._registry.version_of_job(spec.model_name, record.id)
        if version is not None and await self._registry.find_manifest(spec.model_name, version):
            await self._complete(record.id, spec, version, events)  # finished before a crash
            return
        train, holdout, report = await self._prepare(record.id, spec, events)
        model = await self._fit(record.id, spec, train, events)
        metrics = await self._backend.evaluate(model, spec, holdout)
        await events.emit(EventType.EVALUATED, {"metrics": metrics, "holdout_rows": holdout.rows})
        await self._check_cancel(record.id)
        data = {"table": spec.source.table, "columns": list(spec.source.columns), **report.to_dict()}
        await self._store(record.id, spec, model, {**metrics, "holdout_rows": holdout.rows}, data, events,
                          holdout.features)

    async def _prepare(
        self, job_id: str, spec: TrainingSpec, events: JobEvents
    ) -> tuple[Dataset, Dataset, data_prep.CleaningReport]:
        await events.progress("load", 0.0)
        arrow = await self._warehouse.read(spec.source.table)
        frame = await anyio.to_thread.run_sync(arrow.to_pandas)
        used, report = await anyio.to_thread.run_sync(data_prep.clean, frame, spec)
        await events.emit(EventType.DATA_LOADED, report.to_dict())
        await self._check_cancel(job_id)
        train, holdout = await anyio.to_thread.run_sync(data_prep.split, used, spec)
        return train, holdout, report

    async def _fit(self, job_id: str, spec: TrainingSpec, train: Dataset, events: JobEvents) -> object:
        async def progress(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
            await events.progress(stage, fraction, extra)
            await self._check_cancel(job_id)

        await progress("fit", 0.0, {"train_rows": train.rows})
        model = await self._backend.fit(spec, train, progress)
        await events.progress("fit", 1.0)
        return model

    async def _store(
        self, job_id: str, spec: TrainingSpec, model: object, metrics: Mapping[str, float],
        data: Mapping[str, Any], events: JobEvents, sample: npt.NDArray[np.float64],
    ) -> None:
        serialized = await self._backend.serialize(model, sample[:EXPORT_CHECK_ROWS])
        version = await self._registry.claim_version(spec.model_name, job_id)
        manifest = await self._registry.publish(
            spec.model_name, version, serialized.files, extra={"exports": dict(serialized.notes)},
            job_id=job_id, algorithm=spec.algorithm, spec=spec.to_dict(),
            metrics=metrics,
            data=data,
            library_versions=self._backend.library_versions(),
            created_at=self._clock.now().isoformat().replace("+00:00", "Z"),
        )
        uri = self._registry.uri(spec.model_name, version)
        await events.emit(EventType.ARTIFACT_STORED, {"uri": uri, "bytes": manifest.total_bytes})
        await self._complete(job_id, spec, version, events)

    async def _complete(self, job_id: str, spec: TrainingSpec, version: int, events: JobEvents) -> None:
        result = {"model_name": spec.model_name, "version": version}
        await self._finish(job_id, events, JobState.COMPLETED, EventType.COMPLETED, result)

    async def _finish(
        self, job_id: str, events: JobEvents, state: JobState, event: EventType,
        data: Mapping[str, Any], error: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {"finished_at": self._clock.now(), "error": error}
        if state is JobState.COMPLETED:
            changes["result"] = dict(data)
        # The record moves first; a crash before the event is repaired by the next delivery.
        await self._jobs.transition(job_id, state, sources_for(state), changes)
        await events.emit(event, data)

    async def _check_cancel(self, job_id: str) -> None:
        if (await self._jobs.get(job_id)).cancel_requested:
            raise JobCancelled("cancellation requested")

    async def _repair_terminal_event(self, record: JobRecord, events: JobEvents) -> None:
        if await events.has_terminal_event():
            return
        kinds = {JobState.COMPLETED: EventType.COMPLETED, JobState.CANCELLED: EventType.CANCELLED}
        event = kinds.get(record.state, EventType.FAILED)
        data = dict(record.result) if event is EventType.COMPLETED else {"message": record.error or ""}
        await events.emit(event, {} if event is EventType.CANCELLED else data)
