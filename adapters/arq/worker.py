"""ArqWorker: runs the tasks of one queue in-process, with leases and retry classification.

Every task ends with a result or its handler's `give_up` (a readable cause), never as a `failed`
arq job nobody is told about (arq fails a job at once on any exception and on its own timeout):
transient errors become `Retry` with backoff and jitter until tries run out; any other exception,
and a try past the queue's timeout, gives up at once (a bug or a hang does not get better by
repeating it). The try runs under our own deadline, and arq's timeout is set past it plus the time a
`give_up` may take, so arq's never cuts a task first. A `give_up` that fails is called again within the try,
and if it still fails, the next try only gives up (give_up.py): it does not run the handler again.

arq's poll loop ends on the first Redis error it meets: each worker runs it through a PollLoop
(poll_loop.py), which runs it again and says whether it is polling, for readiness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Sequence
from typing import Any

from arq.constants import retry_key_prefix
from arq.cron import cron
from arq.worker import Retry, Worker, func

from adapters._shared.redis_client import redis_client
from adapters.arq.give_up import GIVE_UP_S, GivingUp
from adapters.arq.leases import DEFAULT_TTL_S, REDIS_AWAY, WorkerLeases
from adapters.arq.poll_loop import DEFAULT_RESTARTS, LoopRestarts, PollLoop, queues_not_polled
from adapters.arq.task_queue import queue_key
from adapters.arq.task_types import CronTask, Payload, QueueSettings, TaskHandler
from domain.types.errors import TransientError
from domain.types.redaction import redact_urls
from domain.types.retry import backoff_seconds

__all__ = ["ArqWorker", "CronTask", "LoopRestarts", "QueueSettings", "TaskHandler", "queues_not_polled"]
log = logging.getLogger(__name__)
# arq's timeout is the queue's plus GIVE_UP_S (see give_up.py) plus this: the lease and Redis calls around them.
ARQ_SLACK_S = 5.0
# Tries arq allows past max_tries: they run only give_up, for a last try lost with its worker or whose
# give_up failed (see _wrap). Each kill and each failed give_up uses one.
SPARE_TRIES = 3


class ArqWorker:
    def __init__(
        self, redis_url: str, namespace: str, settings: QueueSettings, handlers: Sequence[TaskHandler], worker_id: str,
        cron_tasks: Sequence[CronTask] = (), lease_s: float = DEFAULT_TTL_S, restarts: LoopRestarts = DEFAULT_RESTARTS,
    ) -> None:
        self._cron_tasks = cron_tasks
        self.lease_s = lease_s  # how long this worker's heartbeat outlives it (see leases.py)
        self._redis_url = redis_url
        self._namespace = namespace
        self._settings = settings
        self._handlers = handlers
        self._worker_id = worker_id
        self._worker: Worker | None = None
        self._leases: WorkerLeases | None = None
        self._giving_up: GivingUp | None = None
        self._stopping = False
        self._loop = PollLoop(settings.queue, restarts)

    @property
    def queue(self) -> str:
        return self._settings.queue

    @property
    def polling(self) -> bool:
        """arq's poll loop runs (False before start, while it is down, and after stop)."""
        return self._loop.polling

    async def start(self) -> None:
        # arq's Worker.close() closes the pool it is given, so it gets a pool of its own.
        pool = redis_client(self._redis_url)
        self._leases = WorkerLeases(pool, self._namespace, self._worker_id, self.lease_s)
        await self._leases.start()
        self._giving_up = GivingUp(pool, self._namespace)
        self._worker = Worker(
            functions=[self._wrap(h) for h in self._handlers],
            cron_jobs=[self._cron(c) for c in self._cron_tasks],
            queue_name=queue_key(self._namespace, self._settings.queue),
            redis_pool=pool,
            handle_signals=False,
            max_jobs=self._settings.concurrency,
            job_timeout=self._settings.timeout_s,
            max_tries=self._settings.max_tries + SPARE_TRIES,  # spare tries run give_up only (see _wrap)
            health_check_interval=30,
            keep_result=3600,
            poll_delay=0.05,  # queue pick-up latency; a ZRANGEBYSCORE per poll is cheap
        )
        self._loop.start(self._worker)

    async def stop(self, grace_s: float) -> None:
        """Stop taking jobs, let running ones finish for `grace_s`, then hand the rest back. Never raises
        for Redis being away: the process is stopping, and what Redis did not hear the leases repair."""
        if self._worker is None:
            return
        self._loop.stopping()
        self._stopping = True
        self._worker.allow_pick_jobs = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle(), grace_s)
        await self._loop.cancel()  # first: the loop must not run again while arq closes
        try:
            await self._worker.close()  # cancels what is left; arq re-queues cancelled jobs
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we ourselves are being cancelled
            # A job task ended cancelled inside arq's close. Its lease entry stays behind, so the
            # next worker's reaper frees the job even if arq could not release it.
            log.warning("a running job was handed back while its worker stopped")
        except REDIS_AWAY as exc:  # arq's close stopped before closing its pool
            log.warning("the %s worker stopped without Redis (%s); its unfinished jobs return once their "
                        "lease runs out", self.queue, redact_urls(str(exc)))
            with contextlib.suppress(Exception):
                await self._worker.pool.aclose()
        if self._leases:
            await self._leases.stop()

    async def _idle(self) -> None:
        while self._worker and any(not t.done() for t in self._worker.tasks.values()):
            await asyncio.sleep(0.1)

    def _cron(self, task: CronTask) -> Any:
        async def tick(ctx: dict[str, Any]) -> None:
            await task.run()

        # arq derives a tick's job id from the cron's name and time: without the namespace, the
        # workers of two environments sharing a Redis would take turns running each other's ticks.
        return cron(tick, name=f"cron:{self._namespace}{task.name}", hour=task.hour, minute=task.minute,
                    second=task.second, unique=True, timeout=300)

    def _wrap(self, handler: TaskHandler) -> Any:
        settings = self._settings

        async def task(ctx: dict[str, Any], payload: Payload) -> None:
            job_id, attempt = ctx["job_id"], ctx["job_try"]
            assert self._leases is not None and self._giving_up is not None
            pending = await self._giving_up.pending(ctx)
            if pending is not None:  # an earlier try failed and could not give up: only give up
                await self._give_up(handler, payload, pending.cause, pending.tries, ctx)
                return
            if attempt > settings.max_tries:  # the last try died with its worker, or could not give up
                await self._give_up(handler, payload, f"gave up after {settings.max_tries} attempts (the last "
                                    "ended without a result: its worker was lost, or its failure could not be "
                                    "recorded)", settings.max_tries, ctx)
                return
            await self._leases.job_started(job_id)
            try:
                outcome = await self._attempt(handler, payload, attempt, job_id)
            except asyncio.CancelledError:  # its lease entry is kept on purpose: see stop()
                if self._stopping:
                    await self._hand_back(job_id)
                raise
            await self._leases.job_ended(job_id)
            if isinstance(outcome, Retry):
                raise outcome
            if outcome is not None:
                await self._give_up(handler, payload, outcome, attempt, ctx)

        return func(task, name=handler.name, timeout=settings.timeout_s + GIVE_UP_S + ARQ_SLACK_S)

    async def _hand_back(self, job_id: str) -> None:
        """A try cut short by this worker stopping did not fail: it does not count. arq counted it when it
        picked the job up (its retry key, incremented at each pick-up); without this, a job handed back at
        max_tries shutdowns in a row would be given up without having failed."""
        assert self._worker is not None
        with contextlib.suppress(Exception):  # the process stops: a try left counted is the lesser harm
            async with asyncio.timeout(1.0):
                await self._worker.pool.decr(retry_key_prefix + job_id)

    async def _attempt(self, handler: TaskHandler, payload: Payload, attempt: int, job_id: str) -> Retry | str | None:
        """One try under the queue's deadline: None when it succeeded, a Retry for a transient failure with
        tries left, else the cause to give up with."""
        settings = self._settings
        deadline = asyncio.timeout(settings.timeout_s)
        try:
            async with deadline:
                if handler.run_try is not None:
                    await handler.run_try(payload, attempt)
                else:
                    await handler.run(payload)
        except TransientError as exc:
            if attempt >= settings.max_tries:
                return f"gave up after {attempt} attempts: {exc.message}"
            delay = backoff_seconds(attempt, base=settings.backoff_base_s)
            # A receiver's Retry-After (429/503) is a floor: retrying sooner would only be refused again.
            delay = max(delay, float(exc.details.get("retry_after_s") or 0.0))
            log.warning("task %s attempt %s failed transiently, retry in %.1fs: %s", job_id, attempt, delay,
                        redact_urls(str(exc)))
            return Retry(defer=delay)
        except Exception as exc:  # every other failure is final: it must still reach give_up
            if isinstance(exc, TimeoutError) and deadline.expired():
                return f"timed out after {settings.timeout_s:g} s (the {settings.queue} queue's task timeout)"
            # The traceback, not exc_info: a formatted exception repeats its message (and the URLs in it) unredacted.
            trace = redact_urls("".join(traceback.format_exception(exc)).rstrip())
            log.error("task %s attempt %s failed, not retried: %s", job_id, attempt, trace)
            return f"failed: {type(exc).__name__}: {redact_urls(str(exc))}"
        return None

    async def _give_up(self, handler: TaskHandler, payload: Payload, cause: str, tries: int,
                       ctx: dict[str, Any]) -> None:
        """Tell the handler the task is over; if that keeps failing, arq runs the task again, and that try
        only gives up (a spare try, past max_tries, is left for it)."""
        async def call() -> None:
            if handler.give_up_try is not None:
                await handler.give_up_try(payload, cause, tries)
            else:
                await handler.give_up(payload, cause)

        assert self._giving_up is not None
        if not await self._giving_up.give_up(ctx, call, cause, tries):
            raise Retry(defer=backoff_seconds(ctx["job_try"], base=self._settings.backoff_base_s))
