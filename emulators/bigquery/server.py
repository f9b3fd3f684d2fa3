"""Programmatic control: run the emulator on a background thread.

``BigQueryEmulator().start()`` returns the base URL to pass as
``client_options={"api_endpoint": url}``; the synchronous client can then be
used from the calling thread while the server runs its own event loop.
"""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from .app import create_app
from .faults import FaultConfig
from .state import DEFAULT_PROJECT


class BigQueryEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, project: str = DEFAULT_PROJECT,
                 data_dir: str | None = None, gcs_url: str | None = None,
                 faults: FaultConfig | None = None):
        self.host, self.port = host, port
        self._app_args = {"project": project, "data_dir": data_dir, "gcs_url": gcs_url, "faults": faults}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    async def _serve(self) -> None:
        self._runner = web.AppRunner(create_app(**self._app_args), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # With port 0 the OS picks a free port; read back the one actually bound.
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start serving on a background thread; returns the base URL."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="bigquery-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("BigQuery emulator did not start in time")
        if failure:
            raise failure[0]
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> BigQueryEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
