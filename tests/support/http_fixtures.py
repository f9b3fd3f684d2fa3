"""`session`: a plain aiohttp client session for tests that talk to a daemon over HTTP and WebSocket
(a module that needs another connector defines its own `session`, which takes precedence)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
