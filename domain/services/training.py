"""Training jobs from the caller's side: submit (validate, record, enqueue), inspect, cancel."""

from __future__ import annotations

from dataclasses import replace

from domain.services.job_events import JobEvents
from domain.types.errors import InvalidSpec, InvalidTransition, TableNotFound, TransientError
from domain.types.events import EventType
from domain.types.jobs import JobRecord, JobState
from domain.types.tables import TableInfo
from domain.types.training import Task, TrainingSpec
from ports.clock import Clock, IdGenerator
from ports.event_log import EventLog
from ports.job_store import JobStore
from ports.model_backend import ModelBackend
from ports.task_queue import TaskQueue
from ports.warehouse import Warehouse

TRAINING_QUEUE = "training"
TRAIN_TASK = "train"
JOB_KIND = "training"


class TrainingService:
    def __init__(
        self,
        *,
        warehouse: Warehouse,
        backend: ModelBackend,
        jobs: JobStore,
        events: EventLog,
        queue: TaskQueue,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._warehouse = warehouse
        self._backend = backend
        self._jobs = jobs
        self._events = events
        self._queue = queue
        self._clock = clock
        self._ids = ids

    async def submit(self, spec: TrainingSpec) -> JobRecord:
        """Validate everything knowable now, record the job, announce it, enqueue it."""
        params = self._backend.validate(spec.algorithm, spec.task, spec.hyperparameters)
        spec = replace(spec, hyperparameters=params)
        _check_columns(spec, await self._describe(spec.source.table))
        record = JobRecord(
            id=self._ids.new_id("job"),
            kind=JOB_KIND,
            state=JobState.QUEUED,
            created_at=self._clock.now(),
            spec=spec.to_dict(),
        )
        await self._jobs.create(record)
        events = JobEvents(self._events, self._clock, record.id)
        await events.emit(EventType.QUEUED, {"model_name": spec.model_name, "algorithm": spec.algorithm})
        await self._enqueue(record, events)
        return record

    async def get(self, job_id: str) -> JobRecord:
        return await self._jobs.get(job_id)

    async def cancel(self, job_id: str) -> JobRecord:
        """Queued jobs end at once; running ones stop at their next stage boundary."""
        record = await self._jobs.get(job_id)
        if record.is_terminal:
            return record
        if record.state is JobState.QUEUED:
            try:
                record = await self._jobs.transition(
                    job_id, JobState.CANCELLED, frozenset({JobState.QUEUED}), {"finished_at": self._clock.now()}
                )
                await JobEvents(self._events, self._clock, job_id).emit(EventType.CANCELLED, {})
                return record
            except InvalidTransition:
                pass  # a worker started it meanwhile: ask the running job to stop instead
        return await self._jobs.update(job_id, {"cancel_requested": True})

    async def _describe(self, table: str) -> TableInfo:
        try:
            return await self._warehouse.describe(table)
        except TableNotFound as exc:
            raise InvalidSpec(exc.message, {"field": "source.table", **exc.details}) from exc

    async def _enqueue(self, record: JobRecord, events: JobEvents) -> None:
        try:
            await self._queue.enqueue(TRAIN_TASK, {"job_id": record.id}, job_id=record.id, queue=TRAINING_QUEUE)
        except TransientError as exc:
            message = f"could not enqueue the job: {exc.message}"
            await self._jobs.transition(
                record.id, JobState.FAILED, frozenset({JobState.QUEUED}), {"error": message}
            )
            await events.emit(EventType.FAILED, {"message": message})
            raise


def _check_columns(spec: TrainingSpec, table: TableInfo) -> None:
    missing = [c for c in spec.source.columns if table.column(c) is None]
    if missing:
        raise InvalidSpec(
            f"table {table.name!r} has no column(s) {', '.join(missing)}",
            {"field": "source", "missing": missing, "available": [c.name for c in table.columns]},
        )
    non_numeric = [c for c in spec.source.features if not table.column(c).numeric]  # type: ignore[union-attr]
    if non_numeric:
        raise InvalidSpec(
            f"feature column(s) {', '.join(non_numeric)} are not numeric",
            {"field": "source.features", "non_numeric": non_numeric},
        )
    label = table.column(spec.source.label)
    if spec.task is Task.REGRESSION and label is not None and not label.numeric:
        raise InvalidSpec(
            f"label {spec.source.label!r} is not numeric; regression needs a numeric label",
            {"field": "source.label"},
        )
