"""Emits the events of one job to its topic, stamped with the service clock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.types.events import Event, EventType, job_topic
from ports.clock import Clock
from ports.event_log import EventLog


class JobEvents:
    def __init__(self, log: EventLog, clock: Clock, job_id: str) -> None:
        self._log = log
        self._clock = clock
        self.topic = job_topic(job_id)

    async def emit(self, type: EventType, data: Mapping[str, Any] | None = None) -> Event:
        return await self._log.append(self.topic, type.value, dict(data or {}), self._clock.now())

    async def progress(self, stage: str, fraction: float, extra: Mapping[str, Any] | None = None) -> None:
        await self.emit(EventType.PROGRESS, {"stage": stage, "fraction": round(fraction, 4), **(extra or {})})

    async def has_terminal_event(self) -> bool:
        after: str | None = None
        last: Event | None = None
        while batch := await self._log.read(self.topic, after=after, limit=1000):
            last = batch[-1]
            after = last.id
        return last is not None and last.is_terminal
