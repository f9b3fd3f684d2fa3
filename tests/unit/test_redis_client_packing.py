"""The hiredis packer puts the same bytes on the wire as redis-py's own, and refuses what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio.connection import AbstractConnection, Connection
from redis.exceptions import DataError

from adapters._shared.redis_client import HiredisConnection, redis_client

pytestmark = pytest.mark.unit

COMMANDS: list[tuple[Any, ...]] = [
    ("SET", "k", "v"),
    ("EVALSHA", "abc", 2, "k1", "k2", 0.1, 1e20, -1.5, 10**20, "üñí", b"\x00\xff\r\n"),
    ("CONFIG GET", "maxmemory"),
    (b"CLIENT SETNAME", b"x"),
    ("XACK", "s", "g", *[f"{i}-0" for i in range(100)]),
    ("SET", "k", memoryview(b"abc")),
    ("SET", "k", b"x" * 100_000),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_the_same_bytes_as_redis_py(command: tuple[Any, ...]) -> None:
    assert b"".join(HiredisConnection().pack_command(*command)) == b"".join(Connection().pack_command(*command))


def test_a_value_redis_py_refuses_is_refused_with_its_message() -> None:
    with pytest.raises(DataError, match="NoneType"):
        HiredisConnection().pack_command("SET", "k", None)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://127.0.0.1:6380/0", "unix:///tmp/redis.sock"])
def test_every_url_scheme_keeps_its_transport(url: str) -> None:
    client = redis_client(url)
    kind = client.connection_pool.connection_class
    assert kind.__name__.startswith("Hiredis") and issubclass(kind, AbstractConnection)
    assert ("SSL" in kind.__name__) == url.startswith("rediss") and ("Unix" in kind.__name__) == url.startswith("unix")
