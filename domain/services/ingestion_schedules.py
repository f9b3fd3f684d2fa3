"""Scheduled ingestion: a cron schedule that runs an ingestion spec, so the warehouse tables that
retraining reads stay fresh. Schedules live in the artifact store (`schedules/ingestions/{name}.json`),
the outcome of each one's latest fire next to them (`schedules/ingestion-runs/{name}.json`).

The spec keeps its sources as given (paths, globs, URLs) and they are expanded at each fire, so a
glob picks up the files that arrived since the last one. A tick runs at most one fire per schedule,
never one from before the schedule existed (see schedule_fires), and a fire's ingestion id is
derived from the schedule and the fire time, so however many workers or repeated ticks see a
fire, it runs once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from domain.services.ingestion import IngestionService
from domain.services.schedule_fires import Timing, failure_record, latest_due, settled, stamp, worth_recording
from domain.types.errors import ArtifactNotFound, InvalidIdentifier, InvalidSpec, MlplaneError, NotFound
from domain.types.ingestion import Dispatch, IngestionSpec
from domain.types.lifecycle import iso
from ports.artifact_store import ArtifactStore
from ports.bulk_files import BulkFiles
from ports.calendar import CronCalendar
from ports.clock import Clock

log = logging.getLogger(__name__)
PREFIX = "schedules/ingestions/"
RUNS_PREFIX = "schedules/ingestion-runs/"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")


@dataclass(frozen=True)
class IngestionSchedule:
    name: str
    cron: str
    ingestion: Mapping[str, Any] = field(default_factory=dict)  # an IngestionSpec as a dict
    timezone: str = "UTC"
    enabled: bool = True
    created_at: str | None = None  # set when stored; None in schedules stored before it was recorded
    active_since: str | None = None  # fires after this run (see schedule_fires.stamp)

    def spec(self) -> IngestionSpec:
        return IngestionSpec.from_dict(self.ingestion)

    def timing(self) -> Timing:
        return Timing(self.cron, self.timezone, self.enabled, self.created_at, self.active_since)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ingestion": dict(self.ingestion)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IngestionSchedule:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


def schedule_name(value: str) -> str:
    """Names become object keys and ingestion ids: letters, digits, '-' and '_' only."""
    if not _NAME.fullmatch(value):
        raise InvalidIdentifier(f"invalid schedule name {value!r}: letters, digits, '-', '_'; starts with a "
                                "letter; max 63", {"field": "name"})
    return value


def fire_id(name: str, fire: datetime) -> str:
    """The one ingestion id of a schedule's fire time (minute resolution, like cron)."""
    return f"ing_{name}_{fire:%Y%m%dT%H%MZ}"


class IngestionScheduleService:
    def __init__(self, store: ArtifactStore, calendar: CronCalendar, clock: Clock, ingestions: IngestionService,
                 files: BulkFiles) -> None:
        self._store = store
        self._calendar = calendar
        self._clock = clock
        self._ingestions = ingestions
        self._files = files

    async def set(self, schedule: IngestionSchedule) -> tuple[IngestionSchedule, list[str]]:
        """Validate and store; returns the schedule as stored and warnings (e.g. no file matches yet)."""
        schedule_name(schedule.name)
        self._calendar.validate(schedule.cron, schedule.timezone)
        spec = schedule.spec()  # validates table, keys, columns, partitions...
        if spec.dispatch is Dispatch.EXTERNAL:
            raise InvalidSpec("a scheduled ingestion runs its partitions on the queue: drop dispatch 'external'",
                              {"field": "ingestion.dispatch"})
        warnings = await self._check_sources(spec)
        previous = await self._find(schedule.name)
        created_at, active_since = stamp(schedule.timing(), None if previous is None else previous.timing(),
                                         self._clock.now())
        stored = IngestionSchedule(schedule.name, schedule.cron, spec.to_dict(), schedule.timezone, schedule.enabled,
                                   created_at, active_since)
        await self._store.put(PREFIX + f"{schedule.name}.json", json.dumps(stored.to_dict()).encode())
        return stored, warnings

    async def _check_sources(self, spec: IngestionSpec) -> list[str]:
        """What the sources hold now: columns the spec names must exist, but no file yet is only a warning
        (a landing folder may be empty until the first export arrives)."""
        try:
            found = await self._files.expand(spec.sources, spec.format)
        except InvalidSpec as exc:
            if exc.details.get("field") != "sources":
                raise
            return [f"{exc.message}; the schedule is kept and each fire looks again"]
        missing = [c for c in spec.named_columns if c not in found[0].columns]
        if missing:
            raise InvalidSpec(f"the sources have no column(s) {', '.join(missing)}",
                              {"field": "ingestion.keys/cleaning", "missing": missing,
                               "available": list(found[0].columns)})
        return []

    async def all(self) -> list[IngestionSchedule]:
        keys = [k for k in await self._store.list(PREFIX) if k.endswith(".json") and "/" not in k[len(PREFIX):]]
        return [IngestionSchedule.from_dict(json.loads(await self._store.get(k))) for k in keys]

    async def get(self, name: str) -> IngestionSchedule:
        found = await self._find(name)
        if found is None:
            raise NotFound(f"no ingestion schedule {name!r}", {"name": name})
        return found

    async def _find(self, name: str) -> IngestionSchedule | None:
        try:
            raw = await self._store.get(PREFIX + f"{schedule_name(name)}.json")
        except ArtifactNotFound:
            return None
        return IngestionSchedule.from_dict(json.loads(raw))

    async def delete(self, name: str) -> None:
        await self.get(name)  # 404 for an unknown name
        await self._store.delete(PREFIX + f"{name}.json")
        await self._store.delete(RUNS_PREFIX + f"{name}.json")

    def next_runs(self, schedule: IngestionSchedule, count: int = 5) -> list[str]:
        if not schedule.enabled:
            return []
        return [iso(t) for t in self._calendar.next_times(schedule.cron, schedule.timezone, self._clock.now(), count)]

    async def last_run(self, name: str) -> dict[str, Any] | None:
        """{"fire_time", "ingestion_id", "warning"} of the latest fire, or None before the first."""
        try:
            out: dict[str, Any] = json.loads(await self._store.get(RUNS_PREFIX + f"{name}.json"))
            return out
        except ArtifactNotFound:
            return None

    async def tick(self) -> list[str]:
        """Submit each enabled schedule's due fire time (at most one each); returns their ingestion ids."""
        now = self._clock.now()
        submitted: list[str] = []
        for schedule in await self.all():
            if not schedule.enabled:
                continue
            try:
                fire = latest_due(self._calendar, schedule.cron, schedule.timezone, now, schedule.timing().since())
            except MlplaneError as exc:  # a schedule stored under older rules: the others still run
                log.warning("ingestion schedule %s cannot fire: %s", schedule.name, exc.message)
                continue
            if fire is not None and (ingestion_id := await self._fire_once(schedule, fire)) is not None:
                submitted.append(ingestion_id)
        return submitted

    async def _fire_once(self, schedule: IngestionSchedule, fire: datetime) -> str | None:
        """The fire's ingestion id: the recorded one when it was submitted already, None when it is settled
        otherwise (a later fire was recorded, or its submission failed past the retry window)."""
        last = await self.last_run(schedule.name)
        done, recorded = settled(fire, last, "ingestion_id", self._clock.now())
        if done:
            return recorded
        return await self._fire(schedule, fire, last)

    async def _fire(self, schedule: IngestionSchedule, fire: datetime, last: dict[str, Any] | None) -> str | None:
        try:
            record = await self._ingestions.submit(schedule.spec(), fire_id(schedule.name, fire))
        except MlplaneError as exc:  # no file yet, a broken source, Redis away: the others still run
            log.warning("ingestion schedule %s did not run at %s: %s", schedule.name, iso(fire), exc.message)
            # Later ticks try again for a while (files may land a little late): schedule_fires.RETRY_FOR.
            await self._record(schedule.name, failure_record(fire, "ingestion_id", exc.message, last,
                                                             self._clock.now()))
            return None
        await self._record(schedule.name, {"fire_time": iso(fire), "ingestion_id": record.id, "warning": None})
        return record.id

    async def _record(self, name: str, outcome: dict[str, Any]) -> None:
        if worth_recording(outcome, await self.last_run(name)):
            await self._store.put(RUNS_PREFIX + f"{name}.json", json.dumps(outcome).encode())
