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

    async def drop_group(self, stream: str, group: str) -> None:
        """Remove a consumer group, its pending entries and its replays: the stream's trimming, which
        never passes an entry a group still needs, stops waiting for it. No-op when it does not exist."""
        ...
