"""The embedded Redis server that RedisEventLog runs on in the `local` profile: data kept across a
restart, a leftover server on the same directory stopped first, a taken port reported as an error
rather than a second server, a server that dies with a killed parent, and a clear error when no
binary can be found."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.embedded_redis import EmbeddedRedisError, EmbeddedRedisServer, find_binary

pytestmark = pytest.mark.integration


async def test_the_embedded_server_keeps_data_across_a_restart(tmp_path: Path) -> None:
    async with asyncio.timeout(30):
        async with EmbeddedRedisServer(tmp_path) as server:
            client = aioredis.Redis.from_url(server.url)
            await client.set("queued", "job-1")
            await client.aclose()
        async with EmbeddedRedisServer(tmp_path) as restarted:
            client = aioredis.Redis.from_url(restarted.url)
            assert await client.get("queued") == b"job-1"
            await client.aclose()
    assert restarted.url.startswith("redis://127.0.0.1:")


async def test_a_leftover_server_on_the_same_dir_is_stopped_first(tmp_path: Path) -> None:
    async with asyncio.timeout(30):
        leftover = EmbeddedRedisServer(tmp_path)
        await leftover.start()
        old_pid = int((tmp_path / "redis.pid").read_text())
        async with EmbeddedRedisServer(tmp_path) as replacement:
            assert _exits(old_pid, within=1.0)
            assert int((tmp_path / "redis.pid").read_text()) != old_pid
            client = aioredis.Redis.from_url(replacement.url)
            assert await client.ping()
            await client.aclose()
        await leftover.stop()


async def test_a_taken_port_is_a_clear_error_not_another_server(tmp_path: Path) -> None:
    async with asyncio.timeout(30), EmbeddedRedisServer(tmp_path / "a") as first:
        with pytest.raises(EmbeddedRedisError, match="exited") as failed:
            await EmbeddedRedisServer(tmp_path / "b", port=first.port).start()

    assert "Address already in use" in failed.value.message  # from the log tail


def test_the_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys; from pathlib import Path;"
        "from adapters.embedded_redis import EmbeddedRedisServer;"
        "s = EmbeddedRedisServer(Path(sys.argv[1]));"
        "asyncio.run(s.start()); print(Path(sys.argv[1], 'redis.pid').read_text(), flush=True);"
        "import time; time.sleep(60)"
    )
    with subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE) as parent:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert not _exits(server_pid, within=0.0)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
    assert _exits(server_pid, within=10.0)


def _exits(pid: int, within: float) -> bool:
    """True once the process is gone or a zombie (empty cmdline), polling up to `within` s."""
    for _ in range(int(within / 0.05) + 1):
        try:
            if not Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_no_binary_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)

    with pytest.raises(EmbeddedRedisError, match="MLPLANE_REDIS_URL"):
        find_binary()
