"""Test client helpers: submit a job, collect its WebSocket events until the terminal one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

TERMINAL = {"completed", "failed", "cancelled"}
DEMO_SPEC: dict[str, Any] = {
    "model_name": "demo-churn", "algorithm": "decision_tree", "task": "classification",
    "source": {"table": "demo_events", "features": [f"f{i}" for i in range(8)], "label": "label"},
    "hyperparameters": {"max_depth": 6},
}


async def submit(session: aiohttp.ClientSession, url: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    async with session.post(f"{url}/v1/training-jobs", json=spec or DEMO_SPEC) as response:
        assert response.status == 202, await response.text()
        return await response.json()


async def collect_events(
    session: aiohttp.ClientSession, url: str, job_id: str, after: str | None = None,
    stop_after: int | None = None, timeout: float = 120.0,
) -> list[dict[str, Any]]:
    """Events of a job until the terminal one (or `stop_after` events), bounded by `timeout`."""
    ws_url = url.replace("http://", "ws://") + f"/v1/training-jobs/{job_id}/events"
    if after:
        ws_url += f"?after={after}"
    events: list[dict[str, Any]] = []

    async def read() -> None:
        async with session.ws_connect(ws_url) as socket:
            async for message in socket:
                events.append(json.loads(message.data))
                if events[-1]["type"] in TERMINAL or (stop_after and len(events) >= stop_after):
                    return

    await asyncio.wait_for(read(), timeout)
    return events
