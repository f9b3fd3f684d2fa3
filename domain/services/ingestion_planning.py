"""The `ingest_plan` task: split a submitted ingestion into partitions, store the plan, enqueue them.

Runs after the 202, because the split may read whole CSV files (to cut byte ranges on line starts).
Idempotent, because queues deliver at least once and workers die: the plan is written once into
the job record and a redelivery reuses it rather than planning again; partition tasks are
de-duplicated by task id. What can only be known now (a file vanished or changed since the submit,
an unreadable remote) fails the ingestion with the cause; TransientError propagates so the queue
retries. It never opens the warehouse, so any ingestion worker may run it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from domain.services.ingestion import INGESTION_QUEUE, STAGE_TASK, announce_plan, partition_task_id
from domain.services.ingestion_plan import DEFAULT_MAX_AUTO, split_inputs
from domain.services.ingestion_shards import DEFAULT_SHARD_ROWS
from domain.services.job_events import JobEvents
from domain.services.job_lifecycle import JobLifecycle
from domain.types.errors import (
    DomainError,
    InvalidTransition,
    JobCancelled,
    JobNotFound,
    PermanentError,
    TransientError,
)
from domain.types.jobs import JobRecord, JobState
from domain.types.partitions import IngestionInputs, IngestionPlan
from ports.bulk_files import BulkFiles
from ports.job_store import JobStore
from ports.task_queue import TaskQueue

log = logging.getLogger(__name__)


async def _cancelled(record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
    raise JobCancelled("cancellation requested")  # JobLifecycle sees the flag first; this is a backstop


class IngestionPlanner:
    def __init__(self, *, files: BulkFiles, jobs: JobStore, queue: TaskQueue, lifecycle: JobLifecycle,
                 max_auto_partitions: int = DEFAULT_MAX_AUTO, shard_rows: int = DEFAULT_SHARD_ROWS) -> None:
        self._files = files
        self._jobs = jobs
        self._queue = queue
        self._lifecycle = lifecycle
        self._max_auto = max_auto_partitions
        self._shard_rows = shard_rows

    async def run(self, ingestion_id: str) -> None:
        """Plan (or reuse the stored plan) and enqueue every partition; anything but TransientError ends the job."""
        try:
            plan = await self._plan(await self._jobs.get(ingestion_id))
            if plan is not None:
                await self._enqueue(ingestion_id, plan)
        except TransientError:
            raise
        except (DomainError, PermanentError) as exc:
            await self.fail(ingestion_id, f"could not plan the ingestion: {exc.message}")
        except Exception as exc:  # a bug must still end the job with a readable cause, not leave it queued
            log.exception("planning ingestion %s crashed", ingestion_id)
            await self.fail(ingestion_id, f"could not plan the ingestion: internal error: {type(exc).__name__}: {exc}")

    async def fail(self, ingestion_id: str, message: str) -> None:
        """Fail the ingestion unless it has already ended (cancelled meanwhile, say)."""
        with contextlib.suppress(InvalidTransition, JobNotFound):
            await self._lifecycle.fail(ingestion_id, message)

    async def _plan(self, record: JobRecord) -> IngestionPlan | None:
        """The plan to enqueue, or None when the ingestion has ended or was cancelled."""
        if record.is_terminal:
            return None  # cancelled while queued, or failed: nothing to plan
        if record.cancel_requested:
            with contextlib.suppress(InvalidTransition):
                await self._lifecycle.execute(record.id, _cancelled)
            return None
        if "plan" in record.spec:  # a redelivery: the stored plan stands, whatever the files say now
            return IngestionPlan.from_dict(record.spec)
        plan = await split_inputs(self._files, IngestionInputs.from_dict(record.spec), self._max_auto,
                                  self._shard_rows)
        try:  # stored only while still queued, so a cancel that ended the job meanwhile wins
            await self._jobs.transition(record.id, JobState.QUEUED, frozenset({JobState.QUEUED}),
                                        {"spec": {**record.spec, **plan.to_dict()}})
        except InvalidTransition:
            return None
        # Announced by the run that stored it only: were it lost in a crash right here, the partitions'
        # own events still carry the count, and GET /v1/ingestions/{id} shows the plan.
        await announce_plan(self._lifecycle.events(record.id), plan)
        return plan

    async def _enqueue(self, ingestion_id: str, plan: IngestionPlan) -> None:
        for partition in plan.partitions:
            await self._queue.enqueue(STAGE_TASK, {"ingestion_id": ingestion_id, "partition": partition.index},
                                      job_id=partition_task_id(ingestion_id, partition.index), queue=INGESTION_QUEUE)
