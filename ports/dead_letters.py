"""DeadLetters port: items that failed for good, kept with their cause until replayed or purged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from domain.types.streams import DeadLetter


class DeadLetters(Protocol):
    """`park` is idempotent by (kind, key): parking the same key again replaces the entry (a
    redelivered poison event is dead-lettered once). `get` raises NotFound for unknown ids;
    `remove` of an unknown id is a no-op.

    `redeliver` hands an `event` letter back to the consumer group `group` alone (never to the
    other groups reading its stream), under the event's original id, and forgets the letter, in
    one step: the group's consumers read it like any entry, so its idempotency keys are those of
    the first delivery. NotFound when the letter is gone (replayed or purged meanwhile). False, and
    the letter kept, while the pipeline's replays are refused.

    `refuse_replays` is called when a pipeline is deleted: its group's replay stream would have no
    reader, so `redeliver` of its letters refuses (in the same step) until `accept_replays` (the
    pipeline was saved again). Its letters stay listed either way; action letters are not affected.
    """

    async def park(self, kind: str, pipeline: str, key: str, cause: str, attempts: int,
                   payload: Mapping[str, Any]) -> DeadLetter: ...

    async def list(
        self, pipeline: str | None = None, kind: str | None = None, limit: int = 100
    ) -> Sequence[DeadLetter]: ...

    async def get(self, letter_id: str) -> DeadLetter: ...

    async def remove(self, letter_id: str) -> None: ...

    async def redeliver(self, letter: DeadLetter, group: str) -> bool: ...

    async def refuse_replays(self, pipeline: str) -> None: ...

    async def accept_replays(self, pipeline: str) -> None: ...

    async def count(self, pipeline: str) -> int: ...
