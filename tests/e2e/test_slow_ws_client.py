"""A WebSocket client that never reads, against `mlplane up` as a subprocess: while ~48 MB of events
are published on its topic the daemon's memory stays bounded, a normal client on the same topic
gets every event, and the slow one is disconnected with close code 1013."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psutil
import pytest
import redis.asyncio as aioredis

from adapters.redis.event_log import RedisEventLog
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.e2e
EVENTS, PAYLOAD = 6000, "x" * 8000  # 48 MB: far more than any bounded buffer may hold
RSS_GROWTH_LIMIT = 32 * 2**20  # measured ~10 MiB; an unbounded queue would hold the 48 MB, several times over
TOPIC = "pipeline:slow"


@pytest.fixture
async def daemon(redis_url: str, namespace: str, tmp_path: Path) -> AsyncIterator[DaemonProcess]:
    env = {"MLPLANE_REDIS_URL": redis_url, "MLPLANE_ENV": namespace.split(":")[1], "MLPLANE_SEED_DEMO": "false",
           "MLPLANE_WS_SEND_TIMEOUT_S": "2", "MLPLANE_FIT_PROCESSES": "0", "MLPLANE_INGESTION_PROCESSES": "0"}
    process = DaemonProcess(tmp_path / "daemon", env)
    await asyncio.to_thread(process.start)
    yield process
    assert await asyncio.to_thread(process.stop) == 0, process.log_text()[-3000:]


async def read_until(socket: aiohttp.ClientWebSocketResponse, last: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] != last:
        seen.append((await socket.receive_json())["data"]["n"])
    return seen


async def test_a_client_that_never_reads_is_cut_off_while_memory_stays_bounded(
    daemon: DaemonProcess, redis_client: aioredis.Redis, namespace: str
) -> None:
    url = daemon.url.replace("http://", "ws://") + f"/v1/events?topics={TOPIC}"
    log, server = RedisEventLog(redis_client, namespace), psutil.Process(daemon.pid)
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as slow, http.ws_connect(url) as normal:
        await asyncio.sleep(0.5)  # both subscriptions registered
        before = peak = server.memory_info().rss
        reader = asyncio.create_task(read_until(normal, EVENTS - 1))
        for n in range(EVENTS):
            await log.append(TOPIC, "stats", {"n": n, "pad": PAYLOAD}, datetime.now(UTC))
            if n % 200 == 0:
                peak = max(peak, server.memory_info().rss)
        received = await asyncio.wait_for(reader, 60)
        async with asyncio.timeout(30):
            while "slow WebSocket client disconnected" not in daemon.log_text():
                peak = max(peak, server.memory_info().rss)
                await asyncio.sleep(0.2)
        async with asyncio.timeout(10):  # now read: what was buffered, then the close frame
            while (message := await slow.receive()).type is aiohttp.WSMsgType.TEXT:
                pass
    assert received == list(range(EVENTS))
    assert message.type is aiohttp.WSMsgType.CLOSE and message.data == 1013, message
    assert "too slow" in message.extra
    assert peak - before < RSS_GROWTH_LIMIT, f"daemon RSS grew {(peak - before) / 2**20:.0f} MiB"
