"""EventSource port: a consumer group over one input stream (Redis Streams semantics)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.types.streams import StreamEntry


class EventSource(Protocol):
    """At-least-once delivery: an entry stays pending for its group until `ack`.

    `read` first returns this consumer's own pending entries (after a restart), then new ones;
    it waits up to `block_ms` when there is nothing. `claim_stale` takes over entries another
    consumer left pending longer than `min_idle_ms` (each claim counts as a delivery). `trim`
    drops acked history only: never an entry still pending. All raise TransientError when the
    backend is unreachable; `ack` of an unknown id is a no-op (idempotent).
    Events replayed to the group from the dead-letter queue (`DeadLetters.redeliver`) come
    through `read` and `claim_stale` too, under their original ids, to this group only, placed
    at a new position (StreamEntry.position: where they were replayed) that orders windows and
    measures latency. A group dropped meanwhile (its pipeline deleted) reads, claims and holds
    nothing, and is never created again by this consumer.
    """

    async def read(self, count: int, block_ms: int) -> Sequence[StreamEntry]: ...

    async def ack(self, ids: Sequence[str]) -> None: ...

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]: ...

    async def trim(self) -> int:
        """Delete entries older than the oldest pending (or last delivered) one; returns how many."""
        ...

    async def oldest_pending(self) -> str | None:
        """The position of the oldest entry the group has delivered and not acked (any consumer's,
        this batch's included, replayed ones by their position), None when nothing is pending."""
        ...

    async def backlog(self) -> dict[str, int]:
        """{"lag": entries not yet delivered to the group, "pending": delivered but not acked}."""
        ...
