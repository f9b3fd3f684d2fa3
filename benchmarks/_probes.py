"""Latency probes run against a live daemon while something else (a training job) happens."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from typing import Any

import aiohttp

PROBE_INTERVAL_S = 0.02


async def submit_and_wait(session: aiohttp.ClientSession, url: str, spec: dict[str, Any]) -> float:
    """Seconds from submit to the terminal event, watched over the job's WebSocket."""
    started = time.perf_counter()
    async with session.post(f"{url}/v1/training-jobs", json=spec) as response:
        body = await response.json()
    async with session.ws_connect(url.replace("http", "ws", 1) + body["events_url"]) as socket:
        async for message in socket:
            event = json.loads(message.data)
            if event["type"] in ("completed", "failed", "cancelled"):
                assert event["type"] == "completed", event
                return time.perf_counter() - started
    raise RuntimeError("event stream ended without a terminal event")


async def probe_while(
    session: aiohttp.ClientSession, url: str, work: Awaitable[float]
) -> tuple[float, dict[str, list[float]]]:
    """Run `work`; meanwhile sample GET /healthz and a WebSocket ping/pong round trip."""
    samples: dict[str, list[float]] = {"healthz": [], "ws_rtt": []}
    stop = asyncio.Event()
    probes = [asyncio.create_task(_health(session, url, samples["healthz"], stop)),
              asyncio.create_task(_ws_rtt(session, url, samples["ws_rtt"], stop))]
    try:
        result = await work
    finally:
        stop.set()
        await asyncio.gather(*probes)
    return result, samples


async def _health(session: aiohttp.ClientSession, url: str, out: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(f"{url}/healthz") as response:
            await response.read()
        out.append(time.perf_counter() - started)
        await asyncio.sleep(PROBE_INTERVAL_S)


async def _ws_rtt(session: aiohttp.ClientSession, url: str, out: list[float], stop: asyncio.Event) -> None:
    ws_url = url.replace("http", "ws", 1) + "/v1/events?topics=job:none"
    async with session.ws_connect(ws_url) as socket:
        nonce = 0
        while not stop.is_set():
            nonce += 1
            started = time.perf_counter()
            await socket.send_str(json.dumps({"op": "ping", "nonce": nonce}))
            reply = json.loads((await socket.receive()).data)
            assert reply == {"op": "pong", "nonce": nonce}, reply
            out.append(time.perf_counter() - started)
            await asyncio.sleep(PROBE_INTERVAL_S)
