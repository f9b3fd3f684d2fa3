"""InMemoryJobStore: the JobStore port in a dict, faithful to RedisJobStore for unit tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from domain.types.errors import Conflict, InvalidTransition, JobNotFound
from domain.types.jobs import JobRecord, JobState

_CHANGEABLE = frozenset(f.name for f in fields(JobRecord)) - {"id", "state"}


def _normalized(changes: Mapping[str, Any]) -> dict[str, Any]:
    """What a Redis round trip does: UTC datetimes, JSON copies of spec/result."""
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValueError(f"cannot change job fields {sorted(unknown)}")
    out = dict(changes)
    for name, value in changes.items():
        if isinstance(value, datetime):
            out[name] = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        elif name in ("spec", "result"):
            out[name] = json.loads(json.dumps(dict(value)))
    return out


class InMemoryJobStore:
    def __init__(self) -> None:
        self._records: dict[str, JobRecord] = {}
        # The port promises atomic transitions; one lock makes that obvious, not accidental.
        self._lock = asyncio.Lock()

    async def create(self, record: JobRecord) -> None:
        async with self._lock:
            if record.id in self._records:
                raise Conflict(f"job {record.id} already exists", {"job_id": record.id})
            values = {name: getattr(record, name) for name in _CHANGEABLE}
            self._records[record.id] = record.with_changes(**_normalized(values))

    async def get(self, job_id: str) -> JobRecord:
        try:
            return self._records[job_id]
        except KeyError:
            raise JobNotFound(f"job {job_id} not found", {"job_id": job_id}) from None

    async def transition(
        self,
        job_id: str,
        to: JobState,
        allowed_from: frozenset[JobState],
        changes: Mapping[str, Any] | None = None,
    ) -> JobRecord:
        normalized = _normalized(changes or {})
        async with self._lock:
            current = (await self.get(job_id)).state
            if current not in allowed_from:
                raise InvalidTransition(
                    f"job {job_id} cannot move from {current} to {to}",
                    {"job_id": job_id, "current": current.value, "target": to.value},
                )
            return self._apply(job_id, {**normalized, "state": to})

    async def update(self, job_id: str, changes: Mapping[str, Any]) -> JobRecord:
        normalized = _normalized(changes)
        async with self._lock:
            await self.get(job_id)
            return self._apply(job_id, normalized)

    def _apply(self, job_id: str, changes: Mapping[str, Any]) -> JobRecord:
        record = self._records[job_id].with_changes(**changes)
        self._records[job_id] = record
        return record
