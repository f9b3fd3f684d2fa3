"""The embedded Redis keeps its port across restarts when it can, so a separate `mlplane inference` or
`mlplane worker` started with the daemon's MLPLANE_REDIS_URL still reaches it after the daemon restarts;
a port taken meanwhile gives way to a free one rather than a failed start."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.embedded_redis import EmbeddedRedisServer

pytestmark = pytest.mark.integration


async def answers(url: str) -> bool:
    client = aioredis.Redis.from_url(url)
    try:
        return bool(await client.ping())
    finally:
        await client.aclose()


async def test_a_restart_on_the_same_data_dir_keeps_the_url(tmp_path: Path) -> None:
    async with asyncio.timeout(30):
        async with EmbeddedRedisServer(tmp_path) as first:
            url = first.url
        async with EmbeddedRedisServer(tmp_path) as restarted:
            assert restarted.url == url
            assert await answers(url)


async def test_a_port_taken_meanwhile_gives_way_to_a_free_one(tmp_path: Path) -> None:
    async with asyncio.timeout(30):
        async with EmbeddedRedisServer(tmp_path) as first:
            port = first.port
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Redis does: past TIME_WAIT
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            async with EmbeddedRedisServer(tmp_path) as moved:
                assert moved.port != port
                assert await answers(moved.url)
        async with EmbeddedRedisServer(tmp_path) as again:  # the new port is the one remembered now
            assert again.port == moved.port


async def test_a_remembered_port_that_makes_no_sense_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "redis.port").write_text("0\n")  # port 0 would start a server without a TCP listener
    async with asyncio.timeout(30), EmbeddedRedisServer(tmp_path) as server:
        assert server.port not in (None, 0)
        assert await answers(server.url)
