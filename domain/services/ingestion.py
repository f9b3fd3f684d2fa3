"""Ingestions from the caller's side: check, record, announce and enqueue the planning task.

Only what headers and footers tell is checked before the 202 (so bad input is still a 4xx); the
split into partitions, which may read whole CSV files, runs in the `ingest_plan` task (see
ingestion_planning.py), which then enqueues one task per partition. Planning and partitions go on
the `ingestion` queue (any worker process may take them: they never open the warehouse). The
commit goes on the warehouse queue, which in the `local` profile only the daemon serves, because
it owns the DuckDB file.
"""

from __future__ import annotations

from domain.services.ingestion_plan import DEFAULT_MAX_AUTO, check_inputs, split_inputs
from domain.services.ingestion_shards import DEFAULT_SHARD_ROWS
from domain.services.job_events import JobEvents
from domain.types.errors import Conflict, InvalidSpec, JobNotFound, TableNotFound, TransientError
from domain.types.events import EventType
from domain.types.ingestion import Dispatch, IngestionSpec, WriteMode, column_mismatch, loaded_names
from domain.types.jobs import JobRecord, JobState
from domain.types.partitions import IngestionInputs, IngestionPlan
from ports.bulk_files import BulkFiles
from ports.clock import Clock, IdGenerator
from ports.event_log import EventLog
from ports.job_store import JobStore
from ports.task_queue import TaskQueue
from ports.warehouse import Warehouse

INGESTION_QUEUE = "ingestion"
# Commits open the warehouse, so they have their own queue, served only where that is allowed (see
# entrypoints/workers.py) and never stuck behind a long training job on the training queue.
COMMIT_QUEUE = "commits"
PLAN_TASK = "ingest_plan"
STAGE_TASK = "ingest_partition"
COMMIT_TASK = "ingest_commit"
JOB_KIND = "ingestion"


def plan_task_id(ingestion_id: str) -> str:
    return f"{ingestion_id}:plan"


def partition_task_id(ingestion_id: str, index: int) -> str:
    return f"{ingestion_id}:p{index}"


def commit_task_id(ingestion_id: str) -> str:
    return f"{ingestion_id}:commit"


async def announce_plan(events: JobEvents, plan: IngestionPlan) -> None:
    """The event that says how many partitions there are: a `progress` event of stage `planned`."""
    await events.progress("planned", 1.0, {"partitions": len(plan.partitions),
                                           "bytes_total": sum(p.bytes for p in plan.partitions)})


class IngestionService:
    def __init__(self, *, files: BulkFiles, jobs: JobStore, events: EventLog, queue: TaskQueue, clock: Clock,
                 ids: IdGenerator, max_auto_partitions: int = DEFAULT_MAX_AUTO,
                 shard_rows: int = DEFAULT_SHARD_ROWS, warehouse: Warehouse | None = None) -> None:
        self._files = files
        self._jobs = jobs
        self._events = events
        self._queue = queue
        self._clock = clock
        self._ids = ids
        self._max_auto = max_auto_partitions
        self._shard_rows = shard_rows
        self._warehouse = warehouse  # None: the target table is not checked before the 202

    async def submit(self, spec: IngestionSpec, ingestion_id: str | None = None) -> JobRecord:
        """Check headers now (bad input is a 4xx, not a failed job), record, announce, enqueue the plan.

        With a known `ingestion_id` (a schedule's fire time) the existing ingestion is returned and
        nothing is checked or recorded again, however many workers or ticks ask.
        """
        if ingestion_id is not None and (existing := await self._existing(ingestion_id)) is not None:
            return existing
        inputs = await check_inputs(self._files, spec)
        await self._check_table(inputs)
        # Cloud Run tasks (`mlplane ingest-task`) read the plan from the record as soon as they start, and
        # no queue worker takes part to make it for them: for them the split is made before the 202.
        plan = (await split_inputs(self._files, inputs, self._max_auto, self._shard_rows)
                if spec.dispatch is Dispatch.EXTERNAL else None)
        record = JobRecord(id=ingestion_id or self._ids.new_id("ing"), kind=JOB_KIND, state=JobState.QUEUED,
                           created_at=self._clock.now(), spec={**inputs.to_dict(), **(plan.to_dict() if plan else {})})
        try:
            await self._jobs.create(record)
        except Conflict:
            if ingestion_id is None:
                raise
            return await self._jobs.get(ingestion_id)  # another worker submitted the same fire first
        await self._announce(record, inputs, plan)
        return record

    async def _check_table(self, inputs: IngestionInputs) -> None:
        """Column names the warehouse refuses (BigQuery's reserved prefixes) are refused now; rows appended or
        upserted into an existing table must have its columns, or the load fails at the end. The table may
        still change before the commit, which then fails naming the columns."""
        spec = inputs.spec
        if self._warehouse is None:
            return
        for name in loaded_names(inputs.columns):
            if (refused := self._warehouse.column_name_problem(name)) is not None:
                raise InvalidSpec(refused, {"field": "sources", "table": spec.table, "columns": [name]})
        if spec.mode is WriteMode.REPLACE:
            return
        try:
            table = await self._warehouse.describe(spec.table)
        except TableNotFound:
            return  # the commit creates it
        problem = column_mismatch(spec.table, spec.mode, [c.name for c in table.columns], loaded_names(inputs.columns))
        if problem is not None:
            raise InvalidSpec(problem, {"field": "sources", "table": spec.table})

    async def get(self, ingestion_id: str) -> JobRecord:
        record = await self._jobs.get(ingestion_id)
        if record.kind != JOB_KIND:
            raise JobNotFound(f"no ingestion {ingestion_id}", {"ingestion_id": ingestion_id})
        return record

    async def _existing(self, ingestion_id: str) -> JobRecord | None:
        try:
            record = await self._jobs.get(ingestion_id)
        except JobNotFound:
            return None
        if record.state is JobState.QUEUED and "plan" not in record.spec:
            # The submitter may have died between recording and enqueueing; the task id de-duplicates.
            await self._queue.enqueue(PLAN_TASK, {"ingestion_id": record.id}, job_id=plan_task_id(record.id),
                                      queue=INGESTION_QUEUE)
        return record

    async def _announce(self, record: JobRecord, inputs: IngestionInputs, plan: IngestionPlan | None) -> None:
        events = JobEvents(self._events, self._clock, record.id)
        await events.emit(EventType.QUEUED, {"table": inputs.spec.table, "mode": inputs.spec.mode.value,
                                             "sources": len(inputs.files), "bytes_total": inputs.bytes_total})
        if plan is not None:
            await announce_plan(events, plan)
            return
        try:
            await self._queue.enqueue(PLAN_TASK, {"ingestion_id": record.id}, job_id=plan_task_id(record.id),
                                      queue=INGESTION_QUEUE)
        except TransientError as exc:
            message = f"could not enqueue the ingestion: {exc.message}"
            await self._jobs.transition(record.id, JobState.FAILED, frozenset({JobState.QUEUED}), {"error": message})
            await events.emit(EventType.FAILED, {"message": message})
            raise
