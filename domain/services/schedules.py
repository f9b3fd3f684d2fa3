"""Per-model retraining schedules (cron + explicit time zone, weekly by default), kept in the
artifact store next to the model, and the tick that turns the due fire time into a retrain job
(which fire is due: see schedule_fires). The latest fire's outcome is kept next to the schedule."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from domain.services.retrain_jobs import RetrainJobs
from domain.services.retrain_policy import RetrainRequest
from domain.services.schedule_fires import Timing, failure_record, latest_due, settled, stamp, worth_recording
from domain.types.errors import ArtifactNotFound, DomainError
from domain.types.identifiers import model_name
from domain.types.lifecycle import iso
from ports.artifact_store import ArtifactStore
from ports.calendar import CronCalendar
from ports.clock import Clock

log = logging.getLogger(__name__)
WEEKLY = "0 3 * * 1"  # Mondays 03:00


@dataclass(frozen=True)
class Schedule:
    model: str
    cron: str = WEEKLY
    timezone: str = "UTC"
    enabled: bool = True
    retrain: dict[str, Any] | None = None  # alias, metric, tolerance, min_new_rows
    created_at: str | None = None  # set when stored; None in schedules stored before it was recorded
    active_since: str | None = None  # fires after this run (see schedule_fires.stamp)

    def request(self) -> RetrainRequest:
        return RetrainRequest.from_dict({**(self.retrain or {}), "model": self.model})

    def timing(self) -> Timing:
        return Timing(self.cron, self.timezone, self.enabled, self.created_at, self.active_since)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Schedule:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


class ScheduleService:
    def __init__(self, store: ArtifactStore, calendar: CronCalendar, clock: Clock, retrains: RetrainJobs) -> None:
        self._store = store
        self._calendar = calendar
        self._clock = clock
        self._retrains = retrains

    async def set(self, schedule: Schedule) -> Schedule:
        """Validate and store; returns the schedule as stored, with when it was created and since when
        its current cron applies (fire times before that never run)."""
        self._calendar.validate(schedule.cron, schedule.timezone)
        schedule.request()  # validates alias, metric name, tolerance...
        previous = await self.get(schedule.model)
        before = None if previous is None else previous.timing()
        created_at, active_since = stamp(schedule.timing(), before, self._clock.now())
        stored = replace(schedule, created_at=created_at, active_since=active_since)
        await self._store.put(_key(schedule.model), json.dumps(asdict(stored)).encode())
        return stored

    async def all(self) -> list[Schedule]:
        keys = [k for k in await self._store.list("models/") if k.endswith("/schedule.json") and k.count("/") == 2]
        return [Schedule.from_dict(json.loads(await self._store.get(k))) for k in keys]

    async def get(self, model: str) -> Schedule | None:
        try:
            return Schedule.from_dict(json.loads(await self._store.get(_key(model))))
        except ArtifactNotFound:
            return None

    async def delete(self, model: str) -> bool:
        """Remove the model's schedule; False when it had none. Its retrains already queued still run."""
        if await self.get(model) is None:
            return False
        await self._store.delete(_key(model))
        await self._store.delete(_last_fire_key(model))
        return True

    def next_runs(self, schedule: Schedule, count: int = 5) -> list[str]:
        return [iso(t) for t in self._calendar.next_times(schedule.cron, schedule.timezone, self._clock.now(), count)]

    async def tick(self) -> list[str]:
        """Request a retrain for each enabled schedule's due fire time (at most one); returns the job ids."""
        now = self._clock.now()
        requested = []
        for schedule in await self.all():
            if not schedule.enabled:
                continue
            try:
                fire = latest_due(self._calendar, schedule.cron, schedule.timezone, now, schedule.timing().since())
                job_id = None if fire is None else await self._fire_once(schedule, fire, now)
            except DomainError as exc:  # one broken schedule must not block the others
                log.warning("schedule of %s did not run: %s", schedule.model, exc.message)
                continue
            if job_id is not None:
                requested.append(job_id)
        return requested

    async def last_fire(self, model: str) -> dict[str, Any] | None:
        """{"fire_time", "job_id", "warning"} of the latest fire, or None before the first."""
        try:
            out: dict[str, Any] = json.loads(await self._store.get(_last_fire_key(model)))
            return out
        except ArtifactNotFound:
            return None

    async def _fire_once(self, schedule: Schedule, fire: datetime, now: datetime) -> str | None:
        last = await self.last_fire(schedule.model)
        done, recorded = settled(fire, last, "job_id", now)
        if done:
            return recorded
        try:
            job = await self._retrains.request(schedule.request(), fire_job_id(schedule.model, fire))
        except DomainError as exc:
            await self._record(schedule.model, failure_record(fire, "job_id", exc.message, last, now))
            raise
        await self._record(schedule.model, {"fire_time": iso(fire), "job_id": job.id, "warning": None})
        return job.id

    async def _record(self, model: str, outcome: dict[str, Any]) -> None:
        if worth_recording(outcome, await self.last_fire(model)):
            await self._store.put(_last_fire_key(model), json.dumps(outcome).encode())


def fire_job_id(model: str, fire: datetime) -> str:
    """The one retrain job of a model's fire time (minute resolution, like cron)."""
    return f"retrain_{model}_{fire:%Y%m%dT%H%MZ}"


def _key(model: str) -> str:
    return f"models/{model_name(model)}/schedule.json"


def _last_fire_key(model: str) -> str:
    return f"models/{model_name(model)}/schedule_last_fire.json"
