"""Ingestions from the caller's side: plan, record, announce and enqueue one task per partition.

Partitions go on the `ingestion` queue (any worker process may take them: they never open the
warehouse). The commit goes on the warehouse queue, which in the `local` profile only the daemon
serves, because it owns the DuckDB file.
"""

from __future__ import annotations

from domain.services.ingestion_plan import DEFAULT_MAX_AUTO, plan_ingestion
from domain.services.job_events import JobEvents
from domain.types.errors import Conflict, JobNotFound, TransientError
from domain.types.events import EventType
from domain.types.ingestion import Dispatch, IngestionSpec
from domain.types.jobs import JobRecord, JobState
from domain.types.partitions import IngestionPlan
from ports.bulk_files import BulkFiles
from ports.clock import Clock, IdGenerator
from ports.event_log import EventLog
from ports.job_store import JobStore
from ports.task_queue import TaskQueue

INGESTION_QUEUE = "ingestion"
# Commits open the warehouse, so they have their own queue, served only where that is allowed (see
# entrypoints/workers.py) and never stuck behind a long training job on the training queue.
COMMIT_QUEUE = "commits"
STAGE_TASK = "ingest_partition"
COMMIT_TASK = "ingest_commit"
JOB_KIND = "ingestion"


def partition_task_id(ingestion_id: str, index: int) -> str:
    return f"{ingestion_id}:p{index}"


def commit_task_id(ingestion_id: str) -> str:
    return f"{ingestion_id}:commit"


class IngestionService:
    def __init__(self, *, files: BulkFiles, jobs: JobStore, events: EventLog, queue: TaskQueue, clock: Clock,
                 ids: IdGenerator, max_auto_partitions: int = DEFAULT_MAX_AUTO) -> None:
        self._files = files
        self._jobs = jobs
        self._events = events
        self._queue = queue
        self._clock = clock
        self._ids = ids
        self._max_auto = max_auto_partitions

    async def submit(self, spec: IngestionSpec, ingestion_id: str | None = None) -> JobRecord:
        """Plan now (so bad input is a 4xx, not a failed job), record, announce, enqueue.

        With a known `ingestion_id` (a schedule's fire time) the existing ingestion is returned and
        nothing is planned or enqueued again, however many workers or ticks ask.
        """
        if ingestion_id is not None and (existing := await self._existing(ingestion_id)) is not None:
            return existing
        plan = await plan_ingestion(self._files, spec, self._max_auto)
        record = JobRecord(id=ingestion_id or self._ids.new_id("ing"), kind=JOB_KIND, state=JobState.QUEUED,
                           created_at=self._clock.now(), spec=plan.to_dict())
        try:
            await self._jobs.create(record)
        except Conflict:
            if ingestion_id is None:
                raise
            return await self._jobs.get(ingestion_id)  # another worker planned the same fire first
        events = JobEvents(self._events, self._clock, record.id)
        await events.emit(EventType.QUEUED, {"table": spec.table, "mode": spec.mode.value,
                                             "partitions": len(plan.partitions),
                                             "bytes_total": sum(p.bytes for p in plan.partitions)})
        if spec.dispatch is Dispatch.QUEUE:
            await self._enqueue(record, plan, events)
        return record

    async def get(self, ingestion_id: str) -> JobRecord:
        record = await self._jobs.get(ingestion_id)
        if record.kind != JOB_KIND:
            raise JobNotFound(f"no ingestion {ingestion_id}", {"ingestion_id": ingestion_id})
        return record

    async def _existing(self, ingestion_id: str) -> JobRecord | None:
        try:
            return await self._jobs.get(ingestion_id)
        except JobNotFound:
            return None

    async def _enqueue(self, record: JobRecord, plan: IngestionPlan, events: JobEvents) -> None:
        try:
            for partition in plan.partitions:
                await self._queue.enqueue(STAGE_TASK, {"ingestion_id": record.id, "partition": partition.index},
                                          job_id=partition_task_id(record.id, partition.index),
                                          queue=INGESTION_QUEUE)
        except TransientError as exc:
            message = f"could not enqueue the partitions: {exc.message}"
            await self._jobs.transition(record.id, JobState.FAILED, frozenset({JobState.QUEUED}), {"error": message})
            await events.emit(EventType.FAILED, {"message": message})
            raise
