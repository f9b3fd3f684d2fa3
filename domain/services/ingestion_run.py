"""Runs one partition of an ingestion: stage it, record its report, enqueue the commit if it was the last.

Idempotent, because queues deliver at least once and workers die: a partition overwrites its own
staged file and report, and whichever partition finishes last enqueues the commit (de-duplicated
by task id). It never opens the warehouse, so any worker process may run it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from domain.services.ingestion import COMMIT_QUEUE, COMMIT_TASK, commit_task_id
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
from domain.types.events import EventType
from domain.types.jobs import JobRecord, JobState
from domain.types.partitions import IngestionPlan, PartitionReport
from ports.artifact_store import ArtifactStore
from ports.bulk_files import BulkFiles, StagingTask
from ports.clock import Clock
from ports.job_store import JobStore
from ports.task_queue import TaskQueue

log = logging.getLogger(__name__)


async def _cancelled(record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
    raise JobCancelled("cancellation requested")  # JobLifecycle sees the flag first; this is a backstop


def staging_prefix(ingestion_id: str) -> str:
    return f"staging/ingestions/{ingestion_id}/"


def staging_key(ingestion_id: str, name: str) -> str:
    return staging_prefix(ingestion_id) + name


def staged_keys(ingestion_id: str, index: int, shards: int) -> list[str]:
    """A partition's staged files, one per shard (`discard_staged` finds them by their `part-` prefix)."""
    if shards == 1:
        return [staging_key(ingestion_id, f"part-{index}.parquet")]
    return [staging_key(ingestion_id, f"part-{index}-shard-{shard}.parquet") for shard in range(shards)]


async def discard_staged(artifacts: ArtifactStore, ingestion_id: str) -> None:
    """Delete an ingestion's staged partitions once it is loaded, failed or cancelled: nothing will read
    them again (they can be GBs). Reports and rejects files stay: they say what happened. Listing the
    prefix, rather than naming the plan's keys, also lets the store clear what interrupted writes left."""
    for key in await artifacts.list(staging_prefix(ingestion_id)):
        if key.rsplit("/", 1)[-1].startswith("part-") and key.endswith(".parquet"):
            await artifacts.delete(key)


class PartitionStager:
    def __init__(self, *, files: BulkFiles, artifacts: ArtifactStore, jobs: JobStore, queue: TaskQueue,
                 clock: Clock, lifecycle: JobLifecycle) -> None:
        self._files = files
        self._artifacts = artifacts
        self._jobs = jobs
        self._queue = queue
        self._clock = clock
        self._lifecycle = lifecycle

    async def run_partition(self, ingestion_id: str, index: int) -> None:
        """Stage one partition. TransientError propagates so the queue retries it."""
        try:
            record = await self._jobs.get(ingestion_id)
        except JobNotFound:  # a delivery later than the record's retention: the ingestion is long over
            log.warning("ingestion %s has no record (finished and expired); partition %d dropped", ingestion_id, index)
            return
        if record.is_terminal:
            return  # finished, failed or cancelled meanwhile: nothing left to stage
        if record.cancel_requested:  # end it here: no commit will come once partitions stop staging
            with contextlib.suppress(InvalidTransition):
                await self._lifecycle.execute(ingestion_id, _cancelled)
            await discard_staged(self._artifacts, ingestion_id)
            return
        events = self._lifecycle.events(ingestion_id)
        await self._mark_running(record, events)
        plan = IngestionPlan.from_dict(record.spec)
        try:
            report = await self._stage(ingestion_id, plan, index, events)
        except TransientError:
            raise  # the queue retries it
        except (DomainError, PermanentError) as exc:
            await self.fail(ingestion_id, f"partition {index}: {exc.message}")
            return
        except Exception as exc:  # a bug must still end the ingestion with a cause, not leave it running for ever
            log.exception("ingestion %s: partition %d crashed", ingestion_id, index)
            await self.fail(ingestion_id, f"partition {index}: internal error: {type(exc).__name__}: {exc}")
            return
        if (await self._jobs.get(ingestion_id)).is_terminal:  # a late redelivery: the commit is done already
            for key in staged_keys(ingestion_id, index, plan.sharding.count):
                await self._artifacts.delete(key)
            return
        report_json = json.dumps(report.to_dict()).encode()
        await self._artifacts.put(staging_key(ingestion_id, f"part-{index}.json"), report_json)
        await events.progress("staged", 1.0, {"partition": index, "partitions": len(plan.partitions),
                                              **report.to_dict()})
        if await self._all_staged(ingestion_id, len(plan.partitions)):
            await self._queue.enqueue(COMMIT_TASK, {"ingestion_id": ingestion_id},
                                      job_id=commit_task_id(ingestion_id), queue=COMMIT_QUEUE)

    async def fail(self, ingestion_id: str, message: str) -> None:
        """Fail the ingestion unless it has already ended (another partition may have failed it first)."""
        with contextlib.suppress(InvalidTransition):
            await self._lifecycle.fail(ingestion_id, message)
        await discard_staged(self._artifacts, ingestion_id)

    async def _stage(self, ingestion_id: str, plan: IngestionPlan, index: int, events: JobEvents) -> PartitionReport:
        partition = plan.partitions[index]
        staged = tuple(self._artifacts.uri(k) for k in staged_keys(ingestion_id, index, plan.sharding.count))
        task = StagingTask(partition, plan.columns, plan.column_types, plan.spec.cleaning, staged,
                           self._artifacts.uri(staging_key(ingestion_id, f"rejects-{index}.csv")),
                           plan.sharding.column)
        started = self._clock.now()

        async def progress(fraction: float, counters: Mapping[str, Any]) -> None:
            elapsed = (self._clock.now() - started).total_seconds()
            eta = round(elapsed * (1 - fraction) / fraction, 1) if fraction > 0 else None
            await events.progress("partition", fraction, {"partition": index, "partitions": len(plan.partitions),
                                                          "eta_s": eta, **counters})

        return await self._files.stage(task, progress)

    async def _mark_running(self, record: JobRecord, events: JobEvents) -> None:
        if record.state is not JobState.QUEUED:
            return
        try:
            await self._jobs.transition(record.id, JobState.RUNNING, frozenset({JobState.QUEUED}),
                                        {"started_at": self._clock.now()})
        except InvalidTransition:
            return  # another partition got there first
        await events.emit(EventType.STARTED, {"phase": "partitions"})

    async def _all_staged(self, ingestion_id: str, count: int) -> bool:
        reports = [k for k in await self._artifacts.list(staging_prefix(ingestion_id)) if k.endswith(".json")]
        return len(reports) >= count

