"""When the embedded Redis dies under `mlplane up`, the daemon restarts it on the same port with the same
data; when it cannot, the daemon exits non-zero saying why, instead of living on with /healthz 200 and
nothing working. MLPLANE_EMBEDDED_REDIS_PORT pins the port; a taken one is a refusal to start."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.support.daemon import DaemonProcess
from tests.support.port_squatter import kill_and_squat

pytestmark = pytest.mark.e2e
QUIET = {"MLPLANE_SEED_DEMO": "false"}


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(tmp_path / "data", QUIET)
    daemon.start()
    yield daemon
    daemon.stop()


def redis_of(daemon: DaemonProcess) -> tuple[int, int]:
    """The embedded server's pid and port."""
    folder = daemon.data_dir / "redis"
    return int((folder / "redis.pid").read_text()), int((folder / "redis.port").read_text())


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
        while True:
            async with session.get(f"{url}/readyz") as reply:
                if reply.status == 200:
                    return
            await asyncio.sleep(0.2)


async def test_a_killed_embedded_redis_is_restarted_on_its_port_with_its_data(daemon: DaemonProcess) -> None:
    pid, port = redis_of(daemon)
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
    await client.config_set("appendfsync", "always")  # the write is on disk before the kill
    await client.set("kept", "yes")
    await client.aclose()

    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.3)
    await wait_ready(daemon.url)

    new_pid, new_port = redis_of(daemon)
    assert new_pid != pid and new_port == port
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
    assert await client.get("kept") == b"yes"
    await client.aclose()
    assert "embedded redis restarted" in daemon.log_text()
    assert daemon.stop() == 0, daemon.log_text()[-3000:]  # the workers polled again: a clean stop


async def test_a_redis_that_cannot_come_back_ends_the_daemon_with_a_failure(daemon: DaemonProcess) -> None:
    pid, port = redis_of(daemon)
    assert daemon.process is not None
    with kill_and_squat(pid, port):  # another program took its port: no restart can work
        status = await asyncio.to_thread(daemon.process.wait, 60)  # five tries over 15.5 s, then shutdown

    assert status == 1, daemon.log_text()[-3000:]
    assert f"mlplane: the embedded redis on redis://127.0.0.1:{port}/0 died and could not be restarted" \
        in daemon.log_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_embedded_redis_port_setting_is_used(tmp_path: Path) -> None:
    port = free_port()
    daemon = DaemonProcess(tmp_path / "data", {**QUIET, "MLPLANE_EMBEDDED_REDIS_PORT": str(port)})
    daemon.start()
    try:
        assert redis_of(daemon)[1] == port
        assert f'"url": "redis://127.0.0.1:{port}/0"' in daemon.log_text()  # "embedded redis started"
    finally:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]


def test_a_taken_embedded_redis_port_is_a_startup_refusal_saying_so(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        daemon = DaemonProcess(tmp_path / "data", {**QUIET, "MLPLANE_EMBEDDED_REDIS_PORT": str(port)})
        with pytest.raises(RuntimeError, match="did not start"):
            daemon.start()
    assert daemon.process is not None and daemon.process.returncode == 2, daemon.log_text()[-3000:]
    assert f"mlplane: embedded redis on redis://127.0.0.1:{port}/0 exited with status 1" in daemon.log_text()
    assert "Address already in use" in daemon.log_text()  # the server log's tail says why
