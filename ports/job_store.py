"""JobStore port: job records with atomic state transitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from domain.types.jobs import JobRecord, JobState


class JobStore(Protocol):
    """Records survive process restarts. `transition` is atomic: it changes the state only
    when the current state is in `allowed_from` and raises InvalidTransition otherwise, so two
    processes can never both finish a job. JobNotFound for unknown ids.
    """

    async def create(self, record: JobRecord) -> None:
        """Store a new record; Conflict if the id exists."""
        ...

    async def get(self, job_id: str) -> JobRecord: ...

    async def transition(
        self,
        job_id: str,
        to: JobState,
        allowed_from: frozenset[JobState],
        changes: Mapping[str, Any] | None = None,
    ) -> JobRecord:
        """Move to `to` and apply `changes` (JobRecord field -> value) in one atomic step."""
        ...

    async def update(self, job_id: str, changes: Mapping[str, Any]) -> JobRecord:
        """Apply non-state changes (result, error, cancel_requested, attempts)."""
        ...
