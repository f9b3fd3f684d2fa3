"""`mlplane up` as a subprocess: events sent over the ingest WebSocket reach the stream and become
signals, recorded once each in a pipeline's `signals_table` (DuckDB, owned by the daemon); bad
messages get an error reply on a socket that stays open."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import numpy as np
import pytest

from tests.support.daemon import DaemonProcess, module_daemon, poll_json

pytestmark = pytest.mark.e2e
RECORDED = {"stream": "demo_events", "model": "demo-churn", "features": [f"f{i}" for i in range(8)],
            "signals_table": "demo_signals"}


daemon = module_daemon("daemon", {"MLPLANE_DEMO_ROWS": "3000"})


def events(n: int, seed: int) -> list[dict[str, Any]]:
    x = np.random.default_rng(seed).normal(size=(n, 8))
    return [{"entity_id": f"e{i % 5}", **{f"f{j}": float(v) for j, v in enumerate(row)}} for i, row in enumerate(x)]


async def test_batches_over_the_websocket_become_signals_recorded_once_each(daemon: DaemonProcess, http) -> None:
    await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)  # the demo model is trained
    async with http.put(f"{daemon.url}/v1/pipelines/recorded", json=RECORDED) as reply:
        assert reply.status == 200, await reply.text()
        assert (await reply.json())["signals_table"] == "demo_signals"
    ids: list[str] = []
    ws_url = daemon.url.replace("http://", "ws://") + "/v1/streams/demo_events/ws"
    async with http.ws_connect(ws_url) as socket, asyncio.timeout(30):
        await socket.send_json({"events": events(60, 1)})
        first = await socket.receive_json()
        await socket.send_str('{"events": [oops')
        broken = await socket.receive_json()
        await socket.send_json({"events": [{"entity_id": "e1"}, 7]})
        not_objects = await socket.receive_json()
        await socket.send_bytes(b"\x00\x01")
        binary = await socket.receive_json()
        await socket.send_json({"entity_id": "e9", **{f"f{j}": 0.5 for j in range(8)}})  # one event
        single = await socket.receive_json()
        await socket.send_json({"events": events(40, 2)})
        last = await socket.receive_json()
    assert first["accepted"] == 60 and len(first["ids"]) == 60
    assert "malformed JSON" in broken["error"] and broken["code"] == "invalid_spec"
    assert "JSON object" in not_objects["error"] and not_objects["details"]["indexes"] == [1]
    assert "text" in binary["error"]
    assert single["accepted"] == 1 and last["accepted"] == 40
    ids = first["ids"] + single["ids"] + last["ids"]
    assert len(set(ids)) == 101
    table = await poll_json(http, f"{daemon.url}/v1/tables/demo_signals", lambda b: b["row_count"] >= 101)
    columns = {c["name"] for c in table["columns"]}
    assert {"event_id", "entity", "model_version", "score", "label", "latency_ms", "f_f0", "written_at"} <= columns
    await asyncio.sleep(1.5)  # a duplicate row would land within this
    again = await poll_json(http, f"{daemon.url}/v1/tables/demo_signals", lambda b: True)
    assert again["row_count"] == 101


async def test_a_signals_table_that_is_not_an_identifier_is_a_422_naming_the_field(daemon, http) -> None:
    await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    async with http.put(f"{daemon.url}/v1/pipelines/bad", json={**RECORDED, "signals_table": "x; drop"}) as reply:
        assert reply.status == 422
        assert (await reply.json())["error"]["details"]["field"] == "signals_table"


async def test_a_message_over_the_size_limit_closes_only_that_socket(daemon: DaemonProcess, http) -> None:
    ws_url = daemon.url.replace("http://", "ws://") + "/v1/streams/demo_events/ws"
    async with http.ws_connect(ws_url) as socket, asyncio.timeout(30):
        await socket.send_str('{"entity_id": "e1", "pad": "' + "x" * (2 << 20) + '"}')
        message = await socket.receive()
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and socket.close_code == 1009
    async with http.ws_connect(ws_url) as socket, asyncio.timeout(30):
        await socket.send_str("[]")
        assert "error" in await socket.receive_json()
    async with http.get(f"{daemon.url}/healthz") as reply:
        assert reply.status == 200
