"""e2e helpers: each module defines its own `daemon` (a subprocess with the env it needs);
`http` is a client session bound to that daemon's URL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess


@pytest.fixture
async def http(daemon: DaemonProcess) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=daemon.url) as session:
        yield session
