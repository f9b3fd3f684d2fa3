"""RedisEventLog under load and failure, and the embedded server it runs on in `local`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from adapters.embedded_redis import EmbeddedRedisError, EmbeddedRedisServer, find_binary
from adapters.redis import RedisEventLog
from domain.types.errors import TransientError

pytestmark = pytest.mark.integration

AT = datetime(2026, 1, 2, tzinfo=UTC)
TOPIC = "job:load"
MakeLog = Callable[..., RedisEventLog]


@pytest_asyncio.fixture
async def make_log(redis_client: aioredis.Redis, namespace: str) -> AsyncIterator[MakeLog]:
    logs: list[RedisEventLog] = []

    def make(**options: int) -> RedisEventLog:
        logs.append(RedisEventLog(redis_client, namespace, **options))
        return logs[-1]

    yield make
    for log in logs:
        await log.close()


async def append_n(log: RedisEventLog, n: int, start: int = 0) -> list[str]:
    return [(await log.append(TOPIC, "progress", {"i": i}, AT)).id for i in range(start, start + n)]


async def collect(log: RedisEventLog, n: int) -> list[str]:
    received: list[str] = []
    async with aclosing(log.subscribe(TOPIC)) as events:
        async for event in events:
            received.append(event.id)
            if len(received) == n:
                return received
    return received


async def subscribers_on(client: aioredis.Redis, namespace: str) -> int:
    """Server-side subscriptions to the topic's channel: connections, not in-process consumers."""
    [(_, count)] = await client.pubsub_numsub(f"{namespace}notify:{TOPIC}")
    return int(count)


async def until_subscribers(client: aioredis.Redis, namespace: str, expected: int) -> None:
    while await subscribers_on(client, namespace) != expected:
        await asyncio.sleep(0.01)


async def test_two_hundred_subscribers_share_one_connection_and_get_every_event(
    make_log: MakeLog, redis_client: aioredis.Redis, namespace: str
) -> None:
    log = make_log()
    async with asyncio.timeout(30):
        appended = await append_n(log, 50)
        consumers = [asyncio.ensure_future(collect(log, 151)) for _ in range(200)]
        await until_subscribers(redis_client, namespace, 1)
        appended += await append_n(log, 100, start=50)
        shared = await subscribers_on(redis_client, namespace)  # all 200 still wait for one more
        appended += await append_n(log, 1, start=150)
        results = await asyncio.gather(*consumers)

    assert shared == 1
    assert all(received == appended for received in results)


async def test_killing_the_pubsub_connection_loses_and_repeats_nothing(
    make_log: MakeLog, redis_client: aioredis.Redis, namespace: str
) -> None:
    log = make_log()
    async with asyncio.timeout(30):
        consumers = [asyncio.ensure_future(collect(log, 300)) for _ in range(20)]
        await until_subscribers(redis_client, namespace, 1)
        appended = await append_n(log, 100)
        killed = await redis_client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        appended += await append_n(log, 100, start=100)  # published while nobody listens
        await until_subscribers(redis_client, namespace, 1)
        killed += await redis_client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        appended += await append_n(log, 100, start=200)
        results = await asyncio.gather(*consumers)

    assert killed >= 2
    assert log.stats()["reconnects"] >= 2
    assert all(received == appended for received in results)


async def test_a_slow_subscriber_gets_everything_with_a_bounded_buffer(make_log: MakeLog) -> None:
    log = make_log(buffer_size=100)
    async with asyncio.timeout(40), aclosing(log.subscribe(TOPIC)) as slow:
        appended = await append_n(log, 1)
        received = [(await anext(slow)).id]
        appended += await append_n(log, 4999, start=1)  # the slow one reads nothing meanwhile
        high_water = log.stats()["buffer_high_water"]
        while len(received) < len(appended):
            received.append((await anext(slow)).id)

    assert received == appended
    assert 0 < high_water <= 100
    assert log.stats()["overflows"] >= 1


async def test_a_cancelled_subscriber_unsubscribes(
    make_log: MakeLog, redis_client: aioredis.Redis, namespace: str
) -> None:
    log = make_log()
    async with asyncio.timeout(10):
        consumer = asyncio.ensure_future(collect(log, 1))
        await until_subscribers(redis_client, namespace, 1)
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await until_subscribers(redis_client, namespace, 0)


async def test_a_subscription_survives_a_redis_restart(tmp_path: Path) -> None:
    server, restarted = EmbeddedRedisServer(tmp_path), EmbeddedRedisServer(tmp_path)
    client = aioredis.Redis.from_url(await server.start())
    log = RedisEventLog(client, "mlplane:restart:")
    try:
        async with asyncio.timeout(30):
            consumer = asyncio.ensure_future(collect(log, 40))
            appended = await append_n(log, 20)
            await server.stop()  # SHUTDOWN: the AOF holds all 20
            restarted.port = server.port
            await restarted.start()
            appended += [await append_until_accepted(log, i) for i in range(20, 40)]
            received = await consumer
    finally:
        await log.close()
        await client.aclose()
        await restarted.stop()
        await server.stop()

    assert received == appended
    assert log.stats()["reconnects"] >= 1


async def append_until_accepted(log: RedisEventLog, i: int) -> str:
    """The first command after a restart may hit a dead pooled connection: retry it."""
    while True:
        try:
            return (await log.append(TOPIC, "progress", {"i": i}, AT)).id
        except TransientError:
            await asyncio.sleep(0.05)


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
