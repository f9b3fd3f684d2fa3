"""Restarts the embedded Redis when it dies under a running process (OOM killer, a stray kill -9).

Without it the daemon would live on with nothing behind its Redis URL: every job and API call failing,
while liveness probes see a healthy process. The server comes back on the same port from the same
append-only file, so clients reconnect to the same URL and find their data. Restarts are bounded: a
server that will not start, or keeps dying within a minute of each start, is reported through
`on_lost` after the last delay, so the process can exit and let its own supervisor start it afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from adapters.embedded_redis.binary import EmbeddedRedisError
from adapters.embedded_redis.server import EmbeddedRedisServer

log = logging.getLogger(__name__)
RESTART_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # one try after each; past the last, give up
STABLE_S = 60.0  # a server that ran this long was healthy: its death starts the delays afresh


class EmbeddedRedisSupervisor:
    """`start()` after the server started, `await stop()` before stopping the server."""

    def __init__(self, server: EmbeddedRedisServer, on_lost: Callable[[str], None],
                 delays: Sequence[float] = RESTART_DELAYS_S, stable_s: float = STABLE_S) -> None:
        self._server = server
        self._on_lost = on_lost
        self._delays = tuple(delays)
        self._stable_s = stable_s
        self._task: asyncio.Task[None] | None = None
        self.lost: str | None = None  # why the server is gone for good, once given up

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="embedded-redis-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        tries = 0
        while True:
            since = loop.time()
            status = await self._server.wait_exited()
            if status is None:  # stopped on purpose
                return
            if loop.time() - since >= self._stable_s:
                tries = 0
            log.warning("embedded redis on %s exited (status %s) while in use; restarting it",
                        self._server.url, status)
            tries = await self._restart(tries)
            if tries > len(self._delays):
                return

    async def _restart(self, tries: int) -> int:
        """Tries again after each remaining delay; returns the tries used (past the delays: given up)."""
        error = "it died again within a minute of each restart"
        for delay in self._delays[tries:]:
            tries += 1
            await asyncio.sleep(delay)
            try:
                await self._server.restart()
            except EmbeddedRedisError as exc:
                error = _cause(exc)
                log.warning("embedded redis restart %d of %d failed: %s", tries, len(self._delays), error)
                continue
            log.warning("embedded redis restarted on %s (restart %d of %d)", self._server.url, tries,
                        len(self._delays))
            return tries
        self._give_up(error)
        return tries + 1

    def _give_up(self, error: str) -> None:
        self.lost = (f"the embedded redis on {self._server.url} died and could not be restarted "
                     f"({len(self._delays)} tries): {error}")
        log.error(self.lost)
        self._on_lost(self.lost)


def _cause(exc: EmbeddedRedisError) -> str:
    """One line: what happened, and the server log's last line, which says why (the rest stays in its log)."""
    lines = [line for line in str(exc.details.get("log_tail", "")).splitlines() if line.strip()]
    what = exc.details.get("what", exc.message.splitlines()[0])
    return f"{what}: {lines[-1].strip()}" if lines else str(what)
