"""`mlplane up` as a subprocess: a pipeline whose actions could only fail at run time is refused at save
(a webhook timeout the actions queue would cut, a `record` table that cannot take the rows), and events
sent to a stream no pipeline reads are taken with a warning naming it (over HTTP and the WebSocket)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.daemon import DaemonProcess, module_daemon, poll_json, request_json

pytestmark = pytest.mark.e2e
FEATURES = [f"f{i}" for i in range(8)]
EVENT = {"entity_id": "k1", **{name: 0.1 for name in FEATURES}}

daemon = module_daemon("daemon", {"MLPLANE_DEMO_ROWS": "3000", "MLPLANE_ACTIONS_TIMEOUT_S": "30"})


def config(action: dict[str, Any]) -> dict[str, Any]:
    return {"stream": "cfgt_events", "model": "demo-churn", "features": FEATURES, "actions": [action],
            "rules": [{"name": "all", "when": [], "actions": [action["name"]]}]}


async def put(daemon: DaemonProcess, http: Any, action: dict[str, Any]) -> tuple[int, Any]:
    await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)  # the demo model is trained
    return await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/cfgt", config(action))


@pytest.mark.parametrize("timeout_s", [30, 60, 1e9])
async def test_a_webhook_timeout_the_actions_queue_would_cut_is_refused(daemon: DaemonProcess, http: Any,
                                                                         timeout_s: float) -> None:
    hook = {"name": "wh", "type": "webhook", "url": "http://127.0.0.1:9/hook", "timeout_s": timeout_s}
    status, body = await put(daemon, http, hook)
    assert status == 422, body
    assert body["error"]["details"]["field"] == "actions[0].timeout_s", body
    assert "MLPLANE_ACTIONS_TIMEOUT_S" in body["error"]["message"] and "at most 29" in body["error"]["message"]


async def test_a_webhook_timeout_inside_the_queue_timeout_is_saved(daemon: DaemonProcess, http: Any) -> None:
    status, body = await put(daemon, http, {"name": "wh", "type": "webhook", "url": "http://127.0.0.1:9/hook",
                                            "timeout_s": 29})
    assert status == 200 and body["actions"][0]["timeout_s"] == 29, body


async def test_a_record_into_a_table_of_another_schema_is_refused_naming_table_and_columns(
        daemon: DaemonProcess, http: Any) -> None:
    status, body = await put(daemon, http, {"name": "rec", "type": "record", "table": "demo_events"})
    assert status == 422, body
    details = body["error"]["details"]
    assert details["field"] == "actions[0].table" and details["table"] == "demo_events", body
    assert {"key", "event_id", "score", "f_f0"} <= set(details["columns"]), details
    assert "demo_events" in body["error"]["message"] and "key" in body["error"]["message"]


async def test_a_record_into_a_new_table_is_saved(daemon: DaemonProcess, http: Any) -> None:
    status, body = await put(daemon, http, {"name": "rec", "type": "record", "table": "cfgt_records"})
    assert status == 200, body


async def test_events_to_a_stream_no_pipeline_reads_are_taken_with_a_warning(daemon: DaemonProcess,
                                                                               http: Any) -> None:
    await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    status, body = await request_json(http, "POST", f"{daemon.url}/v1/streams/nopipe_stream/events",
                                      {"events": [EVENT]})
    assert status == 202 and body["accepted"] == 1, body
    (warning,) = body["warnings"]
    assert "nopipe_stream" in warning and "no pipeline reads" in warning
    status, body = await request_json(http, "POST", f"{daemon.url}/v1/streams/demo_events/events",
                                      {"events": [EVENT]})
    assert status == 202 and body["warnings"] == [], body


async def test_the_ingest_websocket_warns_of_a_stream_no_pipeline_reads(daemon: DaemonProcess, http: Any) -> None:
    await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    base = daemon.url.replace("http://", "ws://")
    async with http.ws_connect(f"{base}/v1/streams/nopipe_ws/ws") as socket, asyncio.timeout(30):
        await socket.send_json({"events": [EVENT]})
        unread = await socket.receive_json()
    async with http.ws_connect(f"{base}/v1/streams/demo_events/ws") as socket, asyncio.timeout(30):
        await socket.send_json(EVENT)
        read = await socket.receive_json()
    assert unread["accepted"] == 1 and len(unread["warnings"]) == 1 and "nopipe_ws" in unread["warnings"][0]
    assert read["accepted"] == 1 and read["warnings"] == [], read
