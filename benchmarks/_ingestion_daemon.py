"""Driving a benchmark daemon: a shared Redis for separate workers, a warm-up file, one ingestion to its end."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

from adapters.embedded_redis.binary import find_binary, free_port
from benchmarks._ingestion_paths import COLUMNS


@contextlib.contextmanager
def redis_for_workers(data_dir: Path, workers: int) -> Iterator[dict[str, str]]:
    """Separate workers need a Redis they can all reach: start one; else the daemon embeds its own."""
    if not workers:
        yield {}
        return
    port = free_port("127.0.0.1")
    server = subprocess.Popen([str(find_binary()), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(data_dir)], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield {"MLPLANE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    finally:
        server.terminate()
        server.wait(10)


def warm_up_file(work: Path) -> Path:
    path = work / "warm-up.csv"
    header = ",".join(COLUMNS)
    path.write_text(header + "\n" + "\n".join(f"{i},2026-01-01 00:00:00,k{i}," + "0.5," * 8 + "1" for i in range(200)))
    return path


async def ingest(url: str, body: dict[str, Any]) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/ingestions", json=body) as response:
            accepted = await response.json()
        assert response.status == 202, accepted
        async with session.ws_connect(url.replace("http", "ws", 1) + accepted["events_url"]) as socket:
            async for message in socket:
                event = json.loads(message.data)
                if event["type"] in ("completed", "failed", "cancelled"):
                    assert event["type"] == "completed", event
                    return int(event["data"]["rows_loaded"])
    raise RuntimeError("event stream ended without a terminal event")
