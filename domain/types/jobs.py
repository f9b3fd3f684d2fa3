"""Job records and the state machine every job kind follows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})

# RUNNING -> RUNNING is a re-run after a worker crash or an arq retry: allowed on purpose.
# QUEUED -> QUEUED stores what a queued job learnt (an ingestion's plan) only if nothing ended it meanwhile.
ALLOWED_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.QUEUED, JobState.RUNNING, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset(
        {JobState.RUNNING, JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


def sources_for(target: JobState) -> frozenset[JobState]:
    """States from which `target` may be entered."""
    return frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if target in targets)


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    state: JobState
    created_at: datetime
    spec: Mapping[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    error: str | None = None
    result: Mapping[str, Any] = field(default_factory=dict)
    cancel_requested: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def with_changes(self, **changes: Any) -> JobRecord:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat().replace("+00:00", "Z")

        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state.value,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "attempts": self.attempts,
            "error": self.error,
            "result": dict(self.result),
            "cancel_requested": self.cancel_requested,
            "spec": dict(self.spec),
        }
