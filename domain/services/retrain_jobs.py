"""Requesting retrains: from the API, from Cloud Scheduler or cron, and from model schedules.

A request becomes a `retrain` job on the training queue. Schedules pass a job id derived from
the fire time, so however many workers see a tick, one job exists per model per fire time.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.services.aliases import AliasService
from domain.services.job_events import JobEvents
from domain.services.retrain_policy import RetrainRequest, check_metric
from domain.services.training import TRAINING_QUEUE
from domain.types.errors import Conflict, InvalidSpec
from domain.types.events import EventType
from domain.types.jobs import JobRecord, JobState
from domain.types.models import Manifest
from domain.types.training import Task
from ports.clock import Clock, IdGenerator
from ports.event_log import EventLog
from ports.job_store import JobStore
from ports.task_queue import TaskQueue

RETRAIN_TASK = "retrain"
RETRAIN_KIND = "retrain"


class RetrainJobs:
    def __init__(self, *, jobs: JobStore, events: EventLog, queue: TaskQueue, clock: Clock, ids: IdGenerator,
                 aliases: AliasService) -> None:
        self._jobs = jobs
        self._events = events
        self._queue = queue
        self._clock = clock
        self._ids = ids
        self._aliases = aliases

    async def check(self, request: RetrainRequest, versions: Sequence[Manifest]) -> list[str]:
        """What can be known before training, given the model's complete versions: a metric its task does
        not report is an InvalidSpec; no alias to retrain from yet is a warning (a schedule may be set up
        before the first promotion: its fires are skipped, and logged, until the alias exists)."""
        champion = await self._aliases.current(request.model, request.alias)
        newest = max(versions, key=lambda m: m.version, default=None)
        reference = next((m for m in versions if m.version == champion), newest)
        task = reference.spec.get("task") if reference is not None else None  # the champion's, else the newest's
        if task in {t.value for t in Task}:  # a hand-made manifest may lack it: the retrain itself then says so
            check_metric(request.metric, Task(task))
        if champion is None:
            return [f"model {request.model!r} has no alias {request.alias!r} yet: retrains are skipped until it "
                    "points to a version"]
        return []

    async def request(self, request: RetrainRequest, job_id: str | None = None) -> JobRecord:
        """A queued retrain job; with a known `job_id` the existing job is returned (idempotent)."""
        if await self._aliases.current(request.model, request.alias) is None:
            raise InvalidSpec(f"model {request.model!r} has no alias {request.alias!r} to retrain from",
                              {"field": "alias", "model": request.model})
        record = JobRecord(id=job_id or self._ids.new_id("retrain"), kind=RETRAIN_KIND, state=JobState.QUEUED,
                           created_at=self._clock.now(), spec=request.to_dict())
        try:
            await self._jobs.create(record)
        except Conflict:
            return await self._jobs.get(record.id)
        await JobEvents(self._events, self._clock, record.id).emit(EventType.QUEUED, request.to_dict())
        await self._queue.enqueue(RETRAIN_TASK, {"job_id": record.id}, job_id=record.id, queue=TRAINING_QUEUE)
        return record
