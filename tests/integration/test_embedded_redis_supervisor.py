"""The embedded Redis comes back when it dies under us: same port, same data; one that cannot come back,
or keeps dying, is reported once after the last try; one stopped on purpose stays stopped."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.embedded_redis import EmbeddedRedisServer, EmbeddedRedisSupervisor
from tests.support.port_squatter import kill_and_squat

pytestmark = pytest.mark.integration
FAST = (0.05, 0.05, 0.05)  # the restart delays: three tries, without the daemon's seconds of backoff


class Losses:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.told = asyncio.Event()

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)
        self.told.set()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedRedisServer]:
    server = EmbeddedRedisServer(tmp_path)
    await server.start()
    yield server
    await server.stop()


def server_pid(server: EmbeddedRedisServer) -> int:
    return int(server.pidfile.read_text())


async def answering_pid(url: str, timeout: float = 10.0) -> int:
    """The pid of the server answering on `url`, once one does."""
    client = aioredis.Redis.from_url(url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    return int((await client.info("server"))["process_id"])
                except aioredis.ConnectionError:
                    await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def test_a_killed_server_comes_back_on_the_same_port_with_its_data(server: EmbeddedRedisServer) -> None:
    client = aioredis.Redis.from_url(server.url)
    await client.config_set("appendfsync", "always")  # the write is on disk before the kill
    await client.set("queued", "job-1")
    await client.aclose()
    url, killed, losses = server.url, server_pid(server), Losses()
    supervisor = EmbeddedRedisSupervisor(server, losses, delays=FAST)
    supervisor.start()
    try:
        os.kill(killed, signal.SIGKILL)
        await asyncio.sleep(0.2)
        assert await answering_pid(url) not in (killed, None)
    finally:
        await supervisor.stop()
    assert server.url == url and losses.reasons == []
    client = aioredis.Redis.from_url(url)
    assert await client.get("queued") == b"job-1"
    await client.aclose()


async def test_a_server_that_cannot_come_back_is_reported_once_after_the_last_try(
        server: EmbeddedRedisServer) -> None:
    losses = Losses()
    supervisor = EmbeddedRedisSupervisor(server, losses, delays=FAST)
    supervisor.start()
    try:
        assert server.port is not None
        with kill_and_squat(server_pid(server), server.port):
            await asyncio.wait_for(losses.told.wait(), 20)
            await asyncio.sleep(0.3)  # no further try, no second report
    finally:
        await supervisor.stop()
    assert len(losses.reasons) == 1 and supervisor.lost == losses.reasons[0]
    assert "could not be restarted (3 tries)" in losses.reasons[0]
    assert "exited with status 1" in losses.reasons[0], losses.reasons  # and the log's last line says why


async def test_a_server_that_keeps_dying_is_given_up_after_the_last_restart(server: EmbeddedRedisServer) -> None:
    losses = Losses()
    supervisor = EmbeddedRedisSupervisor(server, losses, delays=FAST)
    supervisor.start()
    try:
        for _ in FAST:  # each death within a minute of the last start uses up one delay
            killed = server_pid(server)
            os.kill(killed, signal.SIGKILL)
            await asyncio.sleep(0.1)
            assert await answering_pid(server.url) != killed
            await asyncio.sleep(0.3)  # the supervisor saw it answer too, and watches it again
        os.kill(server_pid(server), signal.SIGKILL)
        await asyncio.wait_for(losses.told.wait(), 10)
    finally:
        await supervisor.stop()
    assert "died again within a minute" in losses.reasons[0]


async def test_a_server_stopped_on_purpose_is_not_restarted(server: EmbeddedRedisServer) -> None:
    losses = Losses()
    supervisor = EmbeddedRedisSupervisor(server, losses, delays=FAST)
    supervisor.start()
    stopped = server_pid(server)
    await server.stop()  # even before the supervisor is stopped
    await asyncio.sleep(0.5)
    await supervisor.stop()
    assert not server.pidfile.exists() or server_pid(server) == stopped  # no new server wrote its pid
    with pytest.raises(TimeoutError):  # nothing answers on its port
        await answering_pid(server.url, timeout=0.5)
    assert losses.reasons == []
