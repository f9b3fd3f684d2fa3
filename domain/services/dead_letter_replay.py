"""Dead-letter operations: list, replay (same idempotency key), purge.

An `event` letter is replayed by appending its raw text to its stream again (a new entry, since
the old one was acked). An `action` letter is re-enqueued with its original idempotency key in
the payload, so the side effect still happens at most once; the queue job id gets a replay
suffix because the queue keeps the failed job's id for a while and would refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from domain.types.streams import DeadLetter
from ports.dead_letters import DeadLetters
from ports.stream_producer import StreamProducer
from ports.task_queue import TaskQueue


class DeadLetterService:
    def __init__(self, dead_letters: DeadLetters, producer: StreamProducer, queue: TaskQueue) -> None:
        self._dlq, self._producer, self._queue = dead_letters, producer, queue

    async def list(
        self, pipeline: str | None = None, kind: str | None = None, limit: int = 100
    ) -> Sequence[DeadLetter]:
        return await self._dlq.list(pipeline, kind, limit)

    async def replay(self, letter_id: str) -> DeadLetter:
        letter = await self._dlq.get(letter_id)
        if letter.kind == "event":
            await self._producer.append(str(letter.payload["stream"]), [str(letter.payload["raw"])])
        else:
            payload = {**letter.payload, "attempt": 1}
            await self._queue.enqueue(ACTION_TASK, payload, job_id=f"{letter.key}:replay:{letter.id}",
                                      queue=ACTIONS_QUEUE)
        await self._dlq.remove(letter.id)  # after the hand-off: a crash in between replays twice, never zero times
        return letter

    async def replay_many(self, pipeline: str | None = None, kind: str | None = None, limit: int = 1000) -> int:
        letters = await self._dlq.list(pipeline, kind, limit)
        for letter in letters:
            await self.replay(letter.id)
        return len(letters)

    async def purge(self, letter_id: str) -> None:
        await self._dlq.get(letter_id)  # NotFound for an unknown id (404), not a silent no-op
        await self._dlq.remove(letter_id)
