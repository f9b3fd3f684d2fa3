"""e2e helpers: each module defines its own `daemon` (a subprocess with the env it needs), mostly as
`daemon = module_daemon(folder, env)` from tests/support/daemon.py; `http` is a client session bound
to that daemon's URL (absolute URLs, which some modules build from `daemon.url`, pass through as they are)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess


@pytest.fixture
async def http(daemon: DaemonProcess) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=daemon.url) as session:
        yield session
