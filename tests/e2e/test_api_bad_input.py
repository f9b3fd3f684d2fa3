"""Hostile input against every HTTP operation that takes a path parameter, a query parameter or a JSON body,
on a real daemon: each answer is a 4xx in the API's error shape whose message names what to fix (or the
documented 2xx where the input is in fact valid), never a 500, a hang, a traceback or a body that is not
strict JSON. Bounded and deterministic: fixed lists of inputs, each request under a timeout."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from tests.support.daemon import DaemonProcess, module_daemon, poll_json
from tests.support.hostile_checks import REQUEST_TIMEOUT_S, check_all, crashes, log_caught_up, strict_json
from tests.support.hostile_fields import field_cases
from tests.support.hostile_inputs import (
    BODY_OPS,
    DEEP,
    HOSTILE_EVENTS,
    MODEL,
    PATH_EXTRA_FOR_VERSIONS,
    PATH_OPS,
    PATH_VALUES,
    QUERY_CASES,
    STREAM,
    WS_MESSAGES,
    Case,
    not_object_bodies,
    short,
)

pytestmark = pytest.mark.e2e
daemon = module_daemon("bad_input", {"MLPLANE_DEMO_ROWS": "3000"})


@pytest.fixture(scope="module")
def ready(daemon: DaemonProcess) -> DaemonProcess:
    """The demo model and pipeline exist, so bodies that are valid up to one field reach that field."""

    async def wait() -> None:
        async with aiohttp.ClientSession() as http:
            await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True, timeout=60)

    asyncio.run(wait())
    return daemon


@pytest.mark.parametrize(("method", "path", "base", "hint"), BODY_OPS, ids=[f"{m} {p}" for m, p, _, _ in BODY_OPS])
async def test_bodies_that_are_not_a_json_object(http, ready, method, path, base, hint) -> None:
    cases = [Case(method, path, raw, why, short(raw)) for raw, why in not_object_bodies(base, hint)]
    await check_all(http, ready, cases)
    await check_all(http, ready, [Case(method, path, base, "application/json", "text/plain")], "text/plain")


async def test_each_field_given_what_it_must_not_take(http, ready) -> None:
    await check_all(http, ready, list(field_cases()))


@pytest.mark.parametrize(("method", "template", "hint", "body"), PATH_OPS, ids=[f"{m} {t}" for m, t, _, _ in PATH_OPS])
async def test_path_parameters(http, ready, method, template, hint, body) -> None:
    values = PATH_VALUES + (PATH_EXTRA_FOR_VERSIONS if hint == "version" else [])
    await check_all(http, ready, [Case(method, template.format(quote(v, safe="%")), body, hint, short(v))
                                  for v in values])


async def test_a_request_line_past_8_kb_is_a_400_naming_the_limit(http, ready) -> None:
    """aiohttp refuses it before any middleware, so the body is its text, not the JSON error shape."""
    logged = len(ready.output)
    for path in (f"/v1/models/{'x' * (1 << 20)}/versions", f"/v1/dlq?pipeline={'x' * (1 << 20)}"):
        async with asyncio.timeout(REQUEST_TIMEOUT_S), http.get(URL(ready.url + path, encoded=True)) as reply:
            assert reply.status == 400 and "8190 bytes" in await reply.text()
    await log_caught_up(http, ready)
    assert not crashes(ready.output[logged:])


@pytest.mark.parametrize(("method", "template", "values", "hint", "ok"), QUERY_CASES,
                         ids=[t.split("?")[1] for _, t, _, _, _ in QUERY_CASES])
async def test_query_parameters(http, ready, method, template, values, hint, ok) -> None:
    await check_all(http, ready, [Case(method, template.format(quote(v, safe="")), None, hint, short(v), ok)
                                  for v in values])


async def test_the_ingest_socket_answers_each_bad_message_and_stays_open(http, ready) -> None:
    url = ready.url.replace("http://", "ws://") + f"/v1/streams/{STREAM}/ws"
    async with http.ws_connect(url) as socket, asyncio.timeout(30):
        for text, hint in WS_MESSAGES:
            await socket.send_str(text)
            reply = await socket.receive_json()
            assert reply.get("code") == "invalid_spec" and hint in reply["error"], (text[:40], reply)
        await socket.send_bytes(b"\xff" * 10)
        assert "text" in (await socket.receive_json())["error"]
        await socket.send_str(json.dumps({"entity_id": "e1", **{f"f{i}": 0.5 for i in range(8)}}))
        assert (await socket.receive_json())["accepted"] == 1  # still open, still taking events


async def test_an_event_socket_ignores_bad_messages_and_keeps_answering_pings(http, ready) -> None:
    url = ready.url.replace("http://", "ws://") + "/v1/events?topics=pipeline:demo"
    async with http.ws_connect(url) as socket, asyncio.timeout(30):
        for text in ("not json", DEEP.decode(), "1" * 5000, "[1]", "null", '{"op": 7}'):
            await socket.send_str(text)
        await socket.send_bytes(b"\xff" * 10)
        await socket.send_str(json.dumps({"op": "ping", "nonce": 1}))
        while (message := await socket.receive()).type is aiohttp.WSMsgType.TEXT:
            if json.loads(message.data).get("op") == "pong":
                return
        pytest.fail(f"the socket ended instead of answering the ping: {message}")


async def test_hostile_events_end_in_the_dlq_with_a_cause(http, ready) -> None:
    tags = [f"hostile-{n}" for n in range(len(HOSTILE_EVENTS))]  # to find each one among the dead letters
    events = [{**{f"f{i}": 0.5 for i in range(8)}, **event, "probe": tag} for event, tag in zip(HOSTILE_EVENTS, tags,
                                                                                              strict=True)]
    async with http.post(f"{ready.url}/v1/streams/{STREAM}/events", data=json.dumps({"events": events}),
                         headers={"Content-Type": "application/json"}) as reply:
        assert reply.status == 202, await reply.text()

    def all_dead(body: Any) -> bool:
        causes = {tag: d["cause"] for d in body["items"] for tag in tags if f'"{tag}"' in d["payload"].get("raw", "")}
        return len(causes) == len(tags) and all(causes.values())

    await poll_json(http, f"{ready.url}/v1/dlq?pipeline=demo&limit=1000", all_dead, timeout=30)


async def test_afterwards_the_daemon_is_healthy_and_every_listing_is_strict_json(http, ready) -> None:
    reads = ["/healthz", "/v1/pipelines", "/v1/schedules", "/v1/ingestion-schedules", f"/v1/models/{MODEL}/aliases",
             f"/v1/models/{MODEL}/retention/plan", "/v1/dlq?limit=1000", "/v1/models"]
    for path in reads:
        async with http.get(f"{ready.url}{path}") as reply:
            text = await reply.text()
            assert reply.status == 200, (path, text[:300])
            strict_json(text)
    await log_caught_up(http, ready)
    assert not crashes(ready.output), crashes(ready.output)
