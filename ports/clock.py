"""Time and identity, as ports so that scheduling, retention and ids are testable."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class IdGenerator(Protocol):
    def new_id(self, prefix: str) -> str:
        """A unique, URL-safe id starting with `prefix` (e.g. `job_...`)."""
        ...
