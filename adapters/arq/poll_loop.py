"""PollLoop: arq's poll loop of one queue, run for the life of its worker and again each time it ends.

arq's poll loop ends on the first Redis error it meets, and nothing would start it again: its queue would
not be read for the rest of the process's life. Redis being away is waited out (one warning, then a quiet
ping now and then); any other end is logged and the loop restarted, `LoopRestarts.max_crashes` times in a
row at most. Each loop says whether it is polling, for readiness (`queues_not_polled`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from dataclasses import dataclass

from arq.worker import Worker

from adapters.arq.leases import REDIS_AWAY
from domain.types.redaction import redact_urls
from domain.types.retry import backoff_seconds

log = logging.getLogger(__name__)
PING_TIMEOUT_S = 2.0  # a poll loop that met Redis being away (REDIS_AWAY) runs again once a ping answers
# The loops started in this process and not stopped yet: readiness asks them whether they poll.
_STARTED: set[PollLoop] = set()


def queues_not_polled() -> list[str]:
    """The queues of this process whose poll loop is down: their jobs wait, whatever Redis says."""
    return sorted({loop.queue for loop in _STARTED if not loop.polling})


@dataclass(frozen=True)
class LoopRestarts:
    """How a poll loop that ended is run again. Redis being away is waited out for as long as the worker
    runs; any other end is a bug or a broken key, restarted `max_crashes` times in a row and then left
    down (readiness fails, and the error log says so), rather than failing in a tight loop for ever."""

    max_crashes: int = 5
    steady_s: float = 60.0  # a loop that ran this long before it ended starts its count of crashes afresh
    base_s: float = 0.5  # first wait before a restart (or a ping of Redis), doubling up to cap_s
    cap_s: float = 5.0


DEFAULT_RESTARTS = LoopRestarts()


async def _recount_slots(worker: Worker) -> None:
    """Make arq's count of running jobs (job_counter and its semaphore) match the jobs that do run.

    arq's start_jobs takes a slot (sem.acquire, job_counter += 1) before its WATCH/EXISTS/ZSCORE/EXEC and
    gives it back only on the outcomes it expects: a Redis error in between ends the loop with the slot
    taken, and a queue of concurrency 1 would never take a job again while reported as polling. The slots
    are counted afresh from the running tasks rather than by undoing start_jobs' step on an error: this
    holds whatever ended the loop and wherever (a cancellation too), without copying arq's start_jobs.
    """
    # A task that just ended gives its slot back in a done-callback, run at the next turn of the event
    # loop: one turn first, so each ended task has given its slot back and each running one still holds it.
    await asyncio.sleep(0)
    running = sum(not task.done() for task in worker.tasks.values())
    # arq's semaphore has one slot more than max_jobs (start_jobs acquires before it checks job_counter).
    # The running tasks' done-callbacks release whichever semaphore the worker holds then: this one.
    slots = asyncio.BoundedSemaphore(worker.max_jobs + 1)
    for _ in range(running):
        await slots.acquire()  # free slots remain, so this never waits
    worker.sem, worker.job_counter = slots, running


class PollLoop:
    def __init__(self, queue: str, restarts: LoopRestarts) -> None:
        self.queue, self._restarts = queue, restarts
        self.polling = False  # arq's poll loop runs (False before start, while it is down, and after stop)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self, worker: Worker) -> None:
        self.polling = True
        self._task = asyncio.create_task(self._supervise(worker), name=f"arq:{self.queue}")
        _STARTED.add(self)

    def stopping(self) -> None:
        """The worker stops: an end of the loop from now on is not run again, nor reported as down."""
        self._stopping = True
        _STARTED.discard(self)

    async def cancel(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.polling = False

    async def _supervise(self, worker: Worker) -> None:
        """Runs arq's poll loop for the life of the worker, and again each time it ends: jobs already
        running go on meanwhile (they are tasks of their own), and the loop takes new ones once back."""
        crashes = 0
        while True:
            await _recount_slots(worker)
            self.polling, began = True, asyncio.get_running_loop().time()
            ended = await self._run_loop(worker)
            self.polling = False
            if self._stopping:
                return
            if isinstance(ended, REDIS_AWAY):
                await self._until_redis_answers(worker, ended)
                continue
            ran_s = asyncio.get_running_loop().time() - began
            crashes = 1 if ran_s >= self._restarts.steady_s else crashes + 1
            if not self._crashed(ended, crashes):
                return
            await asyncio.sleep(backoff_seconds(crashes, base=self._restarts.base_s, cap=self._restarts.cap_s))

    async def _run_loop(self, worker: Worker) -> BaseException | None:
        """arq's loop until it ends: what ended it (None: it returned, which only burst mode does)."""
        try:
            await worker.async_run()
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if self._stopping or (task is not None and task.cancelling()):
                raise
            return exc  # arq's own task was cancelled, not this worker: an end like any other
        except Exception as exc:
            return exc
        return None

    def _crashed(self, ended: BaseException | None, crashes: int) -> bool:
        """Log an unexpected end of the loop; False when it has ended too often in a row to run again."""
        cause = redact_urls("".join(traceback.format_exception(ended)).rstrip()) if ended else "it returned"
        if crashes > self._restarts.max_crashes:
            log.error("the %s queue's poll loop ended %d times in a row; left down, so its jobs wait until the "
                      "process restarts: %s", self.queue, crashes, cause)
            return False
        log.error("the %s queue's poll loop ended unexpectedly; restarting it (%d of %d): %s", self.queue,
                  crashes, self._restarts.max_crashes, cause)
        return True

    async def _until_redis_answers(self, worker: Worker, lost: BaseException) -> None:
        """One warning for the outage, then a ping now and then (quietly) until Redis answers again."""
        log.warning("the %s queue's poll loop lost Redis (%s: %s); its jobs wait until Redis answers again",
                    self.queue, type(lost).__name__, redact_urls(str(lost)))
        attempt = 0
        while True:
            attempt += 1
            await asyncio.sleep(backoff_seconds(attempt, base=self._restarts.base_s, cap=self._restarts.cap_s))
            try:
                async with asyncio.timeout(PING_TIMEOUT_S):
                    await worker.pool.ping()
            except (*REDIS_AWAY, TimeoutError):
                continue
            log.info("the %s queue's poll loop polls again: Redis answers", self.queue)
            return
