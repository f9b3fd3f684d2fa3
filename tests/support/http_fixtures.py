"""`session`: a plain aiohttp client session for tests that talk to a daemon over HTTP and WebSocket
(a module that needs another connector defines its own `session`, which takes precedence);
`serving`: a test's own aiohttp app on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 at a free port; yields its base URL, stops it on exit."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
