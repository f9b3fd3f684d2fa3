"""InMemoryTaskQueue: records enqueued tasks and de-duplicates by job id, like arq."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.types.errors import TransientError


@dataclass(frozen=True)
class QueuedTask:
    name: str
    payload: Mapping[str, Any]
    job_id: str
    queue: str
    defer_seconds: float


class InMemoryTaskQueue:
    def __init__(self) -> None:
        self.tasks: list[QueuedTask] = []
        self.unreachable = False

    async def enqueue(
        self, name: str, payload: Mapping[str, Any], *, job_id: str, queue: str, defer_seconds: float = 0.0
    ) -> bool:
        if self.unreachable:
            raise TransientError("queue unreachable (simulated)")
        if any(t.job_id == job_id for t in self.tasks):
            return False
        self.tasks.append(QueuedTask(name, dict(payload), job_id, queue, defer_seconds))
        return True
