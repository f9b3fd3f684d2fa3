"""A finished job's event WebSocket sends what is stored after `?after=` and closes at once, even when
that is nothing: a client reconnecting after the terminal event (its connection dropped right after
it), or with an id past the end, must not wait forever on a socket that will never send again.
Ingestion jobs share the endpoint (their events are on the job's topic)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess, module_daemon
from tests.support.ws_client import collect_events, submit

pytestmark = pytest.mark.e2e
CLOSE_WITHIN_S = 10.0


daemon = module_daemon("finished-socket", {"MLPLANE_DEMO_ROWS": "2000"})


async def replay(url: str, job_id: str, after: str) -> tuple[list[dict[str, Any]], int | None]:
    """Every message the socket sends after `after` until it closes (bounded), and its close code."""
    ws_url = url.replace("http://", "ws://") + f"/v1/training-jobs/{job_id}/events?after={after}"
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as socket:
        async with asyncio.timeout(CLOSE_WITHIN_S):  # the bug: no close, ever
            received = [message.json() async for message in socket]
        return received, socket.close_code


async def check_replays(url: str, job_id: str) -> None:
    async with aiohttp.ClientSession() as http:
        events = await collect_events(http, url, job_id)
    assert events[-1]["type"] in {"completed", "failed"}, events
    terminal = events[-1]["id"]
    milliseconds, _ = terminal.split("-")
    assert await replay(url, job_id, terminal) == ([], 1000)
    assert await replay(url, job_id, f"{int(milliseconds) + 60_000}-0") == ([], 1000)  # past the end
    received, code = await replay(url, job_id, events[-3]["id"])
    assert [e["id"] for e in received] == [e["id"] for e in events[-2:]] and code == 1000


async def test_a_finished_training_job_closes_after_its_stored_events(daemon: DaemonProcess) -> None:
    async with aiohttp.ClientSession() as http:
        job_id = (await submit(http, daemon.url))["job_id"]
    await check_replays(daemon.url, job_id)


async def test_a_finished_ingestion_closes_after_its_stored_events(daemon: DaemonProcess) -> None:
    source = Path(tempfile.mkdtemp()) / "rows.csv"
    source.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(50)))
    async with aiohttp.ClientSession() as http:
        body = {"sources": [str(source)], "table": "socket_rows"}
        async with http.post(f"{daemon.url}/v1/ingestions", json=body) as reply:
            assert reply.status == 202, await reply.text()
            ingestion_id = (await reply.json())["ingestion_id"]
    await check_replays(daemon.url, ingestion_id)
