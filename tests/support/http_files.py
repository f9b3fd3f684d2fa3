"""A static file server on 127.0.0.1 (a free port), run in its own thread so that synchronous code
(pyarrow reading in a worker thread) and async tests can both use it.

It records each request's path and Range header, can answer without range support (200 with the
whole body, like a naive server), and can fail the next N requests with 503 (a flaky origin).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from aiohttp import web


class FileServer:
    def __init__(self, root: Path, ranges: bool = True) -> None:
        self.root = root
        self.ranges = ranges
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.failures = 0  # the next this-many requests answer 503
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def ranged(self, name: str) -> list[str]:
        """The Range headers of the requests for `name` that had one."""
        return [r for p, r in self.requests if p == f"/{name}" and r]

    def __enter__(self) -> FileServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test file server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/{name}", self._file)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, request.headers.get("Range")))
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=503, text="try again")
        path = self.root / request.match_info["name"]
        if not path.is_file():
            raise web.HTTPNotFound()
        if self.ranges:
            return web.FileResponse(path)  # answers Range with 206 and Content-Range
        return web.Response(body=path.read_bytes(), content_type="application/octet-stream")
