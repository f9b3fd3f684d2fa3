"""The lifecycle every background job shares: start, finish exactly once, fail with a readable
cause, honour cancellation, and repair a terminal event lost in a crash.

Idempotent, because the queue delivers at least once: a re-run of a finished job only repairs
its terminal event; TransientError propagates so the queue can retry the job.

Every failure of every job kind ends here (`fail`), so this is where it is logged: one warning
line with the job's id, kind and cause; a crash (an unexpected exception) logs at error level
with its traceback instead.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from domain.services.job_events import JobEvents
from domain.types.errors import DomainError, JobCancelled, JobNotFound, PermanentError, TransientError
from domain.types.events import EventType
from domain.types.jobs import JobRecord, JobState, sources_for
from domain.types.redaction import redact_urls
from ports.clock import Clock
from ports.event_log import EventLog
from ports.job_store import JobStore

log = logging.getLogger(__name__)
JobBody = Callable[[JobRecord, JobEvents], Awaitable[Mapping[str, Any]]]


class JobLifecycle:
    def __init__(self, jobs: JobStore, events: EventLog, clock: Clock) -> None:
        self._jobs = jobs
        self._log = events
        self._clock = clock

    async def execute(self, job_id: str, body: JobBody) -> None:
        """Run `body` for the job; its returned mapping becomes the result and `completed` data."""
        try:
            record = await self._jobs.get(job_id)
        except JobNotFound:
            # Its record expired (finished longer ago than the retention) before this delivery: there
            # is nothing left to run or repair, and raising would only fail the task with a traceback.
            log.warning("job %s has no record (finished and expired, or never recorded); task dropped", job_id)
            return
        events = self.events(job_id)
        if record.is_terminal:
            await self._repair_terminal_event(record, events)
            return
        try:
            record = await self._start(record, events)
            result = await body(record, events)
            await self._finish(job_id, events, JobState.COMPLETED, EventType.COMPLETED, result)
        except JobCancelled:
            await self._finish(job_id, events, JobState.CANCELLED, EventType.CANCELLED, {})
        except (DomainError, PermanentError) as exc:
            await self.fail(job_id, exc.message)
        except TransientError:
            raise
        except Exception as exc:  # a bug must still end the job with a readable cause, not a hang
            await self.fail(job_id, f"internal error: {type(exc).__name__}: {exc}", crash=exc)

    async def fail(self, job_id: str, message: str, crash: BaseException | None = None) -> None:
        """End the job as failed (also used when retries of a transient error run out), and log it:
        `crash`, an unexpected exception, is logged with its traceback."""
        record = await self._finish(job_id, self.events(job_id), JobState.FAILED, EventType.FAILED,
                                    {"message": message}, message)
        if crash is None:
            log.warning("job %s (%s) failed: %s", job_id, record.kind, redact_urls(message))
            return
        # The traceback, not exc_info: a formatted exception repeats its message (and the URLs in it) unredacted.
        trace = "".join(traceback.format_exception(crash)).rstrip()
        log.error("job %s (%s) failed: %s\n%s", job_id, record.kind, redact_urls(message), redact_urls(trace))

    async def check_cancel(self, job_id: str) -> None:
        if (await self._jobs.get(job_id)).cancel_requested:
            raise JobCancelled("cancellation requested")

    def events(self, job_id: str) -> JobEvents:
        return JobEvents(self._log, self._clock, job_id)

    async def _start(self, record: JobRecord, events: JobEvents) -> JobRecord:
        if record.cancel_requested:
            raise JobCancelled("cancelled before start")
        changes = {"attempts": record.attempts + 1, "started_at": self._clock.now()}
        record = await self._jobs.transition(record.id, JobState.RUNNING, sources_for(JobState.RUNNING), changes)
        await events.emit(EventType.STARTED, {"attempt": record.attempts})
        return record

    async def _finish(
        self, job_id: str, events: JobEvents, state: JobState, event: EventType,
        data: Mapping[str, Any], error: str | None = None,
    ) -> JobRecord:
        changes: dict[str, Any] = {"finished_at": self._clock.now(), "error": error}
        if state is JobState.COMPLETED:
            changes["result"] = dict(data)
        # The record moves first; a crash before the event is repaired by the next delivery.
        record = await self._jobs.transition(job_id, state, sources_for(state), changes)
        await events.emit(event, data)
        return record

    async def _repair_terminal_event(self, record: JobRecord, events: JobEvents) -> None:
        if await events.has_terminal_event():
            return
        kinds = {JobState.COMPLETED: EventType.COMPLETED, JobState.CANCELLED: EventType.CANCELLED}
        event = kinds.get(record.state, EventType.FAILED)
        data = dict(record.result) if event is EventType.COMPLETED else {"message": record.error or ""}
        await events.emit(event, {} if event is EventType.CANCELLED else data)
