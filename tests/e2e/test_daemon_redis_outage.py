"""`mlplane up` on a Redis of the test's own that goes away for a few seconds and comes back on its URL:
the queues are polled again, so an ingestion submitted after the outage completes, and SIGTERM then stops
the daemon cleanly (exit 0). /readyz fails while a queue's poll loop is down even though Redis answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from tests.support.daemon import DaemonProcess, poll_json, request_json
from tests.support.restartable_redis import RestartableRedis

pytestmark = pytest.mark.e2e


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[DaemonProcess, RestartableRedis]]:
    server = RestartableRedis(tmp_path)
    server.start()
    daemon = DaemonProcess(tmp_path / "data", {"MLPLANE_REDIS_URL": server.url, "MLPLANE_SEED_DEMO": "false"})
    try:
        daemon.start()
        yield daemon, server
    finally:
        daemon.kill()
        server.stop()


async def readyz(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(f"{url}/readyz") as reply:
        return reply.status, await reply.json()


async def wait_readyz(http: aiohttp.ClientSession, url: str, status: int, timeout: float = 30.0) -> Any:
    async with asyncio.timeout(timeout):
        while (answer := await readyz(http, url))[0] != status:
            await asyncio.sleep(0.2)
    return answer[1]


async def test_an_ingestion_after_a_redis_outage_completes_and_sigterm_exits_0(
        outage: tuple[DaemonProcess, RestartableRedis], tmp_path: Path) -> None:
    daemon, server = outage
    source = tmp_path / "after.csv"
    source.write_text("id,score\n" + "".join(f"{i},{i / 2}\n" for i in range(200)))
    async with aiohttp.ClientSession() as http:
        await wait_readyz(http, daemon.url, 200)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(4)  # arq's poll raises ConnectionError meanwhile; that ended the loops for good
        assert (await readyz(http, daemon.url))[0] == 503
        await asyncio.to_thread(server.start)
        await wait_readyz(http, daemon.url, 200)
        status, accepted = await request_json(http, "POST", f"{daemon.url}/v1/ingestions",
                                              {"sources": [str(source)], "table": "after_outage", "partitions": 2})
        assert status == 202, accepted
        job = await poll_json(http, f"{daemon.url}/v1/ingestions/{accepted['ingestion_id']}",
                              lambda b: b["state"] not in ("queued", "running"), timeout=90)
    assert job["state"] == "completed", job
    assert await asyncio.to_thread(daemon.stop) == 0, daemon.log_text()[-3000:]
    log = daemon.log_text()
    assert "unexpected error" not in log and "Traceback" not in log, log[-3000:]
    assert log.count("lost Redis") <= 5, log[-3000:]  # a warning per poll loop, not one per retry


async def test_sigterm_while_redis_is_away_exits_0(outage: tuple[DaemonProcess, RestartableRedis]) -> None:
    daemon, server = outage
    async with aiohttp.ClientSession() as http:
        await wait_readyz(http, daemon.url, 200)
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(2)
    assert await asyncio.to_thread(daemon.stop) == 0, daemon.log_text()[-3000:]
    assert "stopped without Redis" in daemon.log_text() and "Traceback" not in daemon.log_text()


async def test_readyz_fails_while_a_queues_poll_loop_is_down(outage: tuple[DaemonProcess, RestartableRedis]) -> None:
    daemon, server = outage
    queue = "mlplane:test:queue:ingestion"
    async with aiohttp.ClientSession() as http:
        await wait_readyz(http, daemon.url, 200)
        with redis.Redis.from_url(server.url) as client:
            client.set(queue, "not a sorted set")  # every poll of the queue fails with WRONGTYPE
            try:
                body = await wait_readyz(http, daemon.url, 503, timeout=10)
            finally:
                client.delete(queue)
        assert body["checks"]["redis"] == "ok" and "ingestion" in body["checks"]["workers"], body
        body = await wait_readyz(http, daemon.url, 200)
        assert "workers" not in body["checks"], body
    assert await asyncio.to_thread(daemon.stop) == 0, daemon.log_text()[-3000:]
