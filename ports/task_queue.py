"""TaskQueue port: durable background work, de-duplicated by job id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class TaskQueue(Protocol):
    """Delivery is at-least-once: every task function must be idempotent.

    `enqueue` returns False when a task with the same `job_id` is already queued or running
    (no double enqueue). `payload` must be plain JSON-able data (ids, not objects).
    Raises TransientError when the broker is unreachable.
    """

    async def enqueue(
        self,
        name: str,
        payload: Mapping[str, Any],
        *,
        job_id: str,
        queue: str,
        defer_seconds: float = 0.0,
    ) -> bool: ...
