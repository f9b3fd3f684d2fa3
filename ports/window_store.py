"""WindowStore port: per-entity rolling windows kept outside the process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.types.streams import ParsedEvent

# One row per event in the window, oldest first: (timestamp, values in the pipeline's field order).
Window = Sequence[tuple[float, Sequence[float]]]


class WindowStore(Protocol):
    """Any consumer can serve any entity, and a restart loses nothing.

    `append` adds each event to its entity's window, in order, and returns the window as of
    that event (including it). Idempotent by event id: an event at or before the entity's last
    applied id is not added again, and the window returned is the one it had then (as far as the
    retained history allows), so a redelivered event yields the same features.
    """

    async def append(
        self, pipeline: str, events: Sequence[ParsedEvent], max_events: int, max_age_s: float | None
    ) -> list[Window]: ...

    async def clear(self, pipeline: str) -> None: ...
