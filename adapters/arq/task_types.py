"""What a worker runs: the handlers of a queue's tasks, its cron tasks, and the queue's settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class TaskHandler:
    name: str
    run: Callable[[Payload], Awaitable[None]]
    give_up: Callable[[Payload, str], Awaitable[None]]
    # Used instead of `run` when set: also gets this try's number (1 = first). Only arq knows
    # it (ctx["job_try"]), and a handler that dead-letters must report how many tries it took.
    run_try: Callable[[Payload, int], Awaitable[None]] | None = None
    # Used instead of `give_up` when set: also gets how many tries were made, for the same reason.
    give_up_try: Callable[[Payload, str, int], Awaitable[None]] | None = None


@dataclass(frozen=True)
class CronTask:
    """Runs once per matching minute across ALL workers of the queue (arq's unique cron jobs)."""

    name: str
    run: Callable[[], Awaitable[None]]
    hour: int | None = None  # None: every hour
    minute: int | None = None  # None: every minute
    second: int | set[int] = 0


@dataclass(frozen=True)
class QueueSettings:
    queue: str
    timeout_s: float
    max_tries: int
    concurrency: int
    backoff_base_s: float = 2.0
