"""Per-model retraining schedules (cron + explicit time zone, weekly by default), kept in the
artifact store next to the model, and the tick that turns due fire times into retrain jobs."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from domain.services.retrain_jobs import RetrainJobs
from domain.services.retrain_policy import RetrainRequest
from domain.types.errors import ArtifactNotFound, DomainError
from domain.types.identifiers import model_name
from domain.types.lifecycle import iso
from ports.artifact_store import ArtifactStore
from ports.calendar import CronCalendar
from ports.clock import Clock

log = logging.getLogger(__name__)
WEEKLY = "0 3 * * 1"  # Mondays 03:00
LOOKBACK = timedelta(minutes=10)  # ticks missed while no worker ran are still honoured


@dataclass(frozen=True)
class Schedule:
    model: str
    cron: str = WEEKLY
    timezone: str = "UTC"
    enabled: bool = True
    retrain: dict[str, Any] | None = None  # alias, metric, tolerance, min_new_rows

    def request(self) -> RetrainRequest:
        return RetrainRequest.from_dict({**(self.retrain or {}), "model": self.model})


class ScheduleService:
    def __init__(self, store: ArtifactStore, calendar: CronCalendar, clock: Clock, retrains: RetrainJobs) -> None:
        self._store = store
        self._calendar = calendar
        self._clock = clock
        self._retrains = retrains

    async def set(self, schedule: Schedule) -> Schedule:
        self._calendar.validate(schedule.cron, schedule.timezone)
        schedule.request()  # validates alias, tolerance...
        await self._store.put(_key(schedule.model), json.dumps(asdict(schedule)).encode())
        return schedule

    async def all(self) -> list[Schedule]:
        keys = [k for k in await self._store.list("models/") if k.endswith("/schedule.json") and k.count("/") == 2]
        return [Schedule(**json.loads(await self._store.get(k))) for k in keys]

    async def get(self, model: str) -> Schedule | None:
        try:
            return Schedule(**json.loads(await self._store.get(_key(model))))
        except ArtifactNotFound:
            return None

    def next_runs(self, schedule: Schedule, count: int = 5) -> list[str]:
        return [iso(t) for t in self._calendar.next_times(schedule.cron, schedule.timezone, self._clock.now(), count)]

    async def tick(self) -> list[str]:
        """Request a retrain for every fire time in the lookback window; returns the job ids."""
        now = self._clock.now()
        requested = []
        for schedule in await self.all():
            if not schedule.enabled:
                continue
            for fire in self._calendar.next_times(schedule.cron, schedule.timezone, now - LOOKBACK, 3):
                if fire <= now:
                    job_id = f"retrain_{schedule.model}_{fire:%Y%m%dT%H%MZ}"
                    try:
                        requested.append((await self._retrains.request(schedule.request(), job_id)).id)
                    except DomainError as exc:  # one broken schedule must not block the others
                        log.warning("schedule of %s did not run: %s", schedule.model, exc.message)
        return requested


def _key(model: str) -> str:
    return f"models/{model_name(model)}/schedule.json"
