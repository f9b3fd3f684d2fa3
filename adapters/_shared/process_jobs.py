"""Run CPU-heavy work in a process pool while streaming its progress back and letting it be cancelled.

The child gets a `Reporter`: `report(stage, fraction, extra)` sends progress to the parent, and
`cancelled()` tells it to stop early (e.g. at the next epoch or tree). The parent forwards each
report to the job's progress callback; when that callback raises (the job was cancelled) the
child is told to stop, the parent waits for it to wind down, and the error is re-raised.
Manager proxies carry the messages because plain multiprocessing queues cannot be passed to
pool workers. With no executor (tests), the work runs in a thread with in-process queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from multiprocessing import get_context
from multiprocessing.managers import SyncManager
from typing import Any

from adapters._shared.parent_watch import exit_with

Progress = Callable[[str, float, Mapping[str, Any]], Awaitable[None]]
POLL_S = 0.1
_END = "end-of-reports"


class StopRequested(Exception):
    """Raised in the child by `Reporter.raise_if_cancelled`, so work can unwind cleanly."""


class Reporter:
    """The child's side: picklable (it holds only manager proxies or thread-safe objects)."""

    def __init__(self, messages: Any, stop: Any) -> None:
        self._messages = messages
        self._stop = stop

    def report(self, stage: str, fraction: float, extra: Mapping[str, Any] | None = None) -> None:
        self._messages.put((stage, float(fraction), dict(extra or {})))

    def cancelled(self) -> bool:
        return bool(self._stop.is_set())

    def raise_if_cancelled(self) -> None:
        if self.cancelled():
            raise StopRequested()


def _next_message(messages: Any, timeout: float) -> Any:
    try:
        return messages.get(True, timeout)
    except queue.Empty:
        return None


class ProcessJobs:
    def __init__(self, executor: Executor | None) -> None:
        self._executor = executor
        self._manager: SyncManager | None = None
        self._lock = threading.Lock()

    async def run(self, function: Callable[..., Any], *args: Any, progress: Progress | None = None) -> Any:
        """`function(reporter, *args)` in the pool; its progress goes to `progress`."""
        messages, stop = await asyncio.to_thread(self._channel)
        reporter = Reporter(messages, stop)
        loop = asyncio.get_running_loop()
        future = asyncio.ensure_future(loop.run_in_executor(self._executor, function, reporter, *args))
        try:
            await self._forward(future, messages, stop, progress)
        except BaseException:
            stop.set()  # the job was cancelled (or we were): let the child stop early
            with contextlib.suppress(BaseException):
                await asyncio.shield(future)
            raise
        return await future

    def close(self) -> None:
        if self._manager is not None:
            self._manager.shutdown()

    async def _forward(self, future: asyncio.Future[Any], messages: Any, stop: Any, progress: Progress | None) -> None:
        """Relay reports until the work is done and every report before its end is delivered.

        When the work ends, an end marker is queued behind its last report: that wakes a reader
        blocked on the queue at once, so completion is never delayed by the polling interval."""
        ended = False
        while True:
            getter = asyncio.ensure_future(asyncio.to_thread(_next_message, messages, POLL_S))
            await asyncio.wait({future, getter}, return_when=asyncio.FIRST_COMPLETED)
            if future.done() and not ended:
                ended = True
                await asyncio.to_thread(messages.put, _END)
            message = await getter
            if message == _END:
                return
            if message is not None and progress is not None:
                await progress(*message)

    def _channel(self) -> tuple[Any, Any]:
        if self._executor is None:
            return queue.Queue(), threading.Event()
        with self._lock:
            if self._manager is None:
                self._manager = SyncManager(ctx=get_context("forkserver"))
                self._manager.start(exit_with, (os.getpid(),))
        return self._manager.Queue(), self._manager.Event()
