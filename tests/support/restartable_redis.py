"""A redis-server of a test's own that the test can stop and start again on the same port: a Redis outage
as a daemon or a worker sees it (refused connections, then the same URL answering again, empty)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import redis

from adapters.embedded_redis.binary import find_binary, free_port


class RestartableRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port("127.0.0.1")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._process = subprocess.Popen(
            [str(find_binary()), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM and wait: the port refuses connections from when this returns."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(10)
        self._process = None

    def _answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False


@contextlib.asynccontextmanager
async def running(folder: Path) -> AsyncIterator[RestartableRedis]:
    """A RestartableRedis started for the block and stopped after it (a fixture's body)."""
    server = RestartableRedis(folder)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


async def until(condition: Callable[[], bool], timeout: float) -> None:
    """Wait until `condition()` holds, at most `timeout` seconds (TimeoutError past it)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)
