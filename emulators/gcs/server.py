"""Running the emulator: in the current event loop or in a background thread.

    async with running_gcs_emulator(port=0) as url: ...        # asyncio tests
    with GcsEmulatorThread(port=0) as emulator: emulator.url   # sync client tests

The socket is bound before the server starts, so ``port=0`` yields a free
port whose number is known at once.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from .app import create_app
from .backends import Backend, DirectoryBackend, MemoryBackend
from .faults import FaultConfig


def make_backend(data_dir: str | os.PathLike[str] | None) -> Backend:
    return DirectoryBackend(data_dir) if data_dir else MemoryBackend()


class GcsEmulator:
    """Start/stop the emulator inside the running event loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 data_dir: str | os.PathLike[str] | None = None,
                 faults: FaultConfig | None = None) -> None:
        self.host, self.port = host, port
        self.app = create_app(make_backend(data_dir), faults)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        # A short shutdown timeout: stop() must not wait on idle keep-alive clients.
        # Handlers are not cancelled when a client disconnects (aiohttp's default),
        # so a commit that has started always finishes and index and disk agree.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def running_gcs_emulator(**kwargs: Any) -> AsyncIterator[str]:
    """Yield the base URL of an emulator running in this loop."""
    emulator = GcsEmulator(**kwargs)
    url = await emulator.start()
    try:
        yield url
    finally:
        await emulator.stop()


class GcsEmulatorThread:
    """The emulator on its own event loop in a daemon thread, for sync clients."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="gcs-emulator")
        self.emulator: GcsEmulator | None = None
        self.url = ""

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()

        async def boot() -> str:
            self.emulator = GcsEmulator(**self._kwargs)
            return await self.emulator.start()

        try:
            self.url = asyncio.run_coroutine_threadsafe(boot(), self._loop).result(timeout)
        except BaseException:
            self.stop()  # e.g. the port is taken: do not leave the loop thread behind
            raise
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop.is_closed():
            return
        if self.emulator is not None:
            asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> GcsEmulatorThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
