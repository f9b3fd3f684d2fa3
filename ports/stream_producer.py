"""StreamProducer port: append events to an input stream (API, file replays) and read its backlog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class StreamProducer(Protocol):
    """`append` adds each JSON text as one entry (field `data`), in order, and returns the ids.
    Not idempotent: a retried call may append twice (consumers dedupe by their own keys).
    TransientError when the backend is unreachable."""

    async def append(self, stream: str, events: Sequence[str]) -> list[str]: ...

    async def backlog(self, stream: str, group: str) -> dict[str, int]:
        """{"lag", "pending"} of a consumer group; zeros when the stream or group does not exist."""
        ...

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the consumer group at the stream's start (and the stream), as its first consumer would;
        a no-op when it exists. A consumer whose group was dropped never creates it again: saving the
        pipeline does, so a consumer kept running through a delete and an equal save reads again."""
        ...

    async def drop_group(self, stream: str, group: str) -> None:
        """Remove a consumer group and its pending entries from `stream`: the stream's trimming, which
        never passes an entry a group still needs, stops waiting for it. No-op when it does not exist.
        The group's replay stream stays: it belongs to the pipeline, whatever stream it reads."""
        ...

    async def drop_replays(self, group: str) -> None:
        """Delete the group's replay stream (events replayed from the dead-letter queue not yet read):
        only when its pipeline is deleted. No-op when it does not exist."""
        ...
