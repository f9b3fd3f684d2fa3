"""Dead-letter operations: list, replay (same idempotency key), purge.

An `event` letter goes back to the pipeline that parked it and to no other: several pipelines can
read one stream, and appending the event to it again would hand every one of them a new event
under a new id, i.e. new idempotency keys and each side effect a second time. The letter is
redelivered to the pipeline's consumer group alone, under its original event id, so its action
keys (`{pipeline}:{event id}:{action}`) and its letter key are those of its first delivery.
An `action` letter is re-enqueued with its original idempotency key in the payload, so the side
effect still happens at most once; the queue job id gets a replay suffix because the queue keeps
the failed job's id for a while and would refuse it.
An event letter of a deleted pipeline is refused (409), and kept: no consumer would read its replay
until the pipeline is saved again. An action letter of a deleted pipeline replays as any other: its
payload holds the action itself, and the actions worker needs nothing of the pipeline to run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from domain.services.pipelines import group_name
from domain.types.errors import Conflict, NotFound
from domain.types.streams import DeadLetter
from ports.dead_letters import DeadLetters
from ports.task_queue import TaskQueue


class PipelineDeleted(Conflict):
    code = "pipeline_deleted"


BULK_REPLAY_MAX = 10_000  # letters one bulk replay tries: bounds one request's time; `more` says to call again


@dataclass
class BulkReplay:
    replayed: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # event letters refused, per deleted pipeline
    more: bool = False  # the call stopped at its limit with letters left

    def warnings(self) -> list[str]:
        kept = [f"{count} event letter(s) of deleted pipeline {pipeline!r} kept, not replayed: PUT the pipeline "
                f"again, or DELETE the letters" for pipeline, count in self.kept.items()]
        more = ["more letters remain than one bulk replay takes: call it again"] if self.more else []
        return kept + more


class DeadLetterService:
    def __init__(self, dead_letters: DeadLetters, queue: TaskQueue) -> None:
        self._dlq, self._queue = dead_letters, queue

    async def list(
        self, pipeline: str | None = None, kind: str | None = None, limit: int = 100
    ) -> Sequence[DeadLetter]:
        return await self._dlq.list(pipeline, kind, limit)

    async def replay(self, letter_id: str) -> DeadLetter:
        """PipelineDeleted for an event letter of a deleted pipeline."""
        letter = await self._dlq.get(letter_id)
        if letter.kind == "event":
            # Refused or forgotten in the same step as the redelivery: a DELETE cannot slip in between.
            if not await self._dlq.redeliver(letter, group_name(letter.pipeline)):
                raise PipelineDeleted(
                    f"dead letter {letter.id!r} is an event of pipeline {letter.pipeline!r}, which was deleted: "
                    "nothing would read its replay. PUT the pipeline again, or DELETE the letter",
                    {"id": letter.id, "pipeline": letter.pipeline})
            return letter
        payload = {**letter.payload, "attempt": 1}
        await self._queue.enqueue(ACTION_TASK, payload, job_id=f"{letter.key}:replay:{letter.id}",
                                  queue=ACTIONS_QUEUE)
        await self._dlq.remove(letter.id)  # after the hand-off: a crash in between replays twice, never zero times
        return letter

    async def replay_many(self, pipeline: str | None = None, kind: str | None = None,
                          limit: int = BULK_REPLAY_MAX) -> int:
        """How many were replayed (see replay_all)."""
        return (await self.replay_all(pipeline, kind, limit)).replayed

    async def replay_all(self, pipeline: str | None = None, kind: str | None = None,
                         limit: int = BULK_REPLAY_MAX) -> BulkReplay:
        """The oldest `limit` letters as the call finds them (`more` when there were more); a letter
        replayed or purged by another call meanwhile is skipped, an event letter of a deleted pipeline is
        kept and counted in `kept`. Only those: an event that fails again is parked anew, under a new id,
        and must not be replayed again by the same call (it would loop until the limit)."""
        letters = await self._dlq.list(pipeline, kind, limit + 1)
        done = BulkReplay(more=len(letters) > limit)
        for letter in letters[:limit]:
            await self._replay_counted(letter, done)
        return done

    async def _replay_counted(self, letter: DeadLetter, done: BulkReplay) -> None:
        try:
            await self.replay(letter.id)
        except NotFound:
            return
        except PipelineDeleted:
            done.kept[letter.pipeline] = done.kept.get(letter.pipeline, 0) + 1
            return
        done.replayed += 1

    async def purge(self, letter_id: str) -> None:
        await self._dlq.get(letter_id)  # NotFound for an unknown id (404), not a silent no-op
        await self._dlq.remove(letter_id)
