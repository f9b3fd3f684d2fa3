"""Dead-letter operations: list, replay (same idempotency key), purge.

An `event` letter goes back to the pipeline that parked it and to no other: several pipelines can
read one stream, and appending the event to it again would hand every one of them a new event
under a new id, i.e. new idempotency keys and each side effect a second time. The letter is
redelivered to the pipeline's consumer group alone, under its original event id, so its action
keys (`{pipeline}:{event id}:{action}`) and its letter key are those of its first delivery.
An `action` letter is re-enqueued with its original idempotency key in the payload, so the side
effect still happens at most once; the queue job id gets a replay suffix because the queue keeps
the failed job's id for a while and would refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from domain.services.pipelines import group_name
from domain.types.errors import NotFound
from domain.types.streams import DeadLetter
from ports.dead_letters import DeadLetters
from ports.task_queue import TaskQueue


class DeadLetterService:
    """`producer` is not used since event letters stopped going back to their stream; it stays
    until the wiring (entrypoints/container.py) drops it."""

    def __init__(self, dead_letters: DeadLetters, queue: TaskQueue) -> None:
        self._dlq, self._queue = dead_letters, queue

    async def list(
        self, pipeline: str | None = None, kind: str | None = None, limit: int = 100
    ) -> Sequence[DeadLetter]:
        return await self._dlq.list(pipeline, kind, limit)

    async def replay(self, letter_id: str) -> DeadLetter:
        letter = await self._dlq.get(letter_id)
        if letter.kind == "event":
            await self._dlq.redeliver(letter, group_name(letter.pipeline))  # forgets the letter in the same step
            return letter
        payload = {**letter.payload, "attempt": 1}
        await self._queue.enqueue(ACTION_TASK, payload, job_id=f"{letter.key}:replay:{letter.id}",
                                  queue=ACTIONS_QUEUE)
        await self._dlq.remove(letter.id)  # after the hand-off: a crash in between replays twice, never zero times
        return letter

    async def replay_many(self, pipeline: str | None = None, kind: str | None = None, limit: int = 1000) -> int:
        """How many were replayed: a letter replayed or purged by another call meanwhile is skipped."""
        replayed = 0
        for letter in await self._dlq.list(pipeline, kind, limit):
            try:
                await self.replay(letter.id)
            except NotFound:
                continue
            replayed += 1
        return replayed

    async def purge(self, letter_id: str) -> None:
        await self._dlq.get(letter_id)  # NotFound for an unknown id (404), not a silent no-op
        await self._dlq.remove(letter_id)
