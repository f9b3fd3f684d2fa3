"""The event envelope shared by every topic (training jobs, models, pipelines)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.types.errors import InvalidSpec


class EventType(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    DATA_LOADED = "data_loaded"
    PROGRESS = "progress"
    EVALUATED = "evaluated"
    ARTIFACT_STORED = "artifact_stored"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_EVENT_TYPES = frozenset({EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED})


@dataclass(frozen=True)
class Event:
    """One event as stored and delivered; `id` is assigned by the event log and orders a topic."""

    id: str
    topic: str
    type: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "type": self.type,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        at = datetime.fromisoformat(str(raw["at"]).replace("Z", "+00:00"))
        return cls(str(raw["id"]), str(raw["topic"]), str(raw["type"]), at, dict(raw.get("data", {})))


def event_id_key(event_id: str) -> tuple[int, int]:
    """Event ids are `<ms>-<seq>`; they order numerically, not as strings. Both parts are unsigned 64-bit
    in Redis: a larger or negative one would only fail there, after a WebSocket is open, in silence."""
    ms, _, seq = event_id.partition("-")
    try:
        key = int(ms), int(seq or 0)
        if all(0 <= part < 2**64 for part in key):
            return key
    except ValueError:
        pass
    raise InvalidSpec(f"{event_id[:60]!r} is not an event id (like 1700000000000-0)", {"field": "after"})


def job_topic(job_id: str) -> str:
    return f"job:{job_id}"
