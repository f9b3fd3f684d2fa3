"""EventLog port: ordered, durable, replayable event topics with live delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.types.events import Event


class EventLog(Protocol):
    """Each topic is an append-only sequence with increasing ids assigned by the log.

    `subscribe` yields every event after `after` (None: from the start) in order, first the
    stored backlog then live ones, with no gap and no repeat even if the live channel drops
    and reconnects. The iterator ends only when the consumer stops iterating.
    """

    async def append(self, topic: str, type: str, data: Mapping[str, Any], at: datetime) -> Event: ...

    async def read(self, topic: str, after: str | None = None, limit: int = 1000) -> Sequence[Event]: ...

    def subscribe(self, topic: str, after: str | None = None) -> AsyncIterator[Event]:
        """Pauses (does not end) while the backend is unreachable; TransientError once closed."""
        ...

    async def close(self) -> None:
        """Release live-delivery resources (connections, reader tasks)."""
        ...
