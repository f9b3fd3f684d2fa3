"""WebSocket ingest: `GET /v1/streams/{name}/ws`, one reply per message, for producers that keep a connection.

Each text message is `{"events": [{...}, ...]}` or one event object; it is appended exactly as
`POST /v1/streams/{name}/events` appends (same service call, same limits) and answered with
`{"accepted": n, "ids": [...], "warnings": [...]}` (a stream no pipeline reads is named there), or
`{"error": "...", "code", "details"}` for a message that cannot be taken; the socket stays open
either way. Backpressure: the next message is read only after the previous one is in the stream,
and aiohttp stops reading the socket once its small input buffer is full, so a producer faster
than Redis is slowed down instead of growing memory.
A message larger than the body limit closes the socket with 1009 (message too big).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from domain.services.pipelines import PipelineService
from domain.types.errors import InvalidSpec, MlplaneError
from domain.types.identifiers import stream_name
from entrypoints.api.errors import loads
from entrypoints.api.keys import CONTAINER, SETTINGS, SOCKETS
from entrypoints.api.routes_pipelines import ACCEPTED

REPLY_TIMEOUT_S = 30.0  # a producer that stops reading its replies is disconnected
log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.get("/v1/streams/{name}/ws")
async def ingest_socket(request: web.Request) -> web.StreamResponse:
    stream = stream_name(request.match_info["name"])  # a 422 before the upgrade, not a silent socket
    socket = web.WebSocketResponse(heartbeat=20.0, max_msg_size=request.app[SETTINGS].max_body_bytes)
    await socket.prepare(request)
    request.app[SOCKETS].add(socket)
    pipelines = request.app[CONTAINER].pipelines()
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT:
                reply = await _append(pipelines, stream, message.data)
            elif message.type is WSMsgType.BINARY:
                reply = _error(InvalidSpec("send events as JSON text messages, not binary"))
            else:
                continue
            await asyncio.wait_for(socket.send_str(json.dumps(reply)), REPLY_TIMEOUT_S)
    except TimeoutError:
        log.warning("stream %s: ingest client stopped reading replies; disconnected", stream)
    finally:
        await socket.close()
    return socket


async def _append(pipelines: PipelineService, stream: str, text: str) -> dict[str, Any]:
    try:
        events = _events(text)
        done = await pipelines.ingest(stream, events)
    except MlplaneError as exc:  # bad input and Redis outages alike: the client decides, the socket lives
        return _error(exc)
    ACCEPTED.labels(stream).inc(len(done.ids))
    return {"accepted": len(done.ids), "ids": done.ids, "warnings": done.warnings}


def _events(text: str) -> list[Any]:
    body = loads(text, "message")
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        return list(body["events"])
    if isinstance(body, dict):
        return [body]  # one event
    raise InvalidSpec('send {"events": [{...}, ...]} or one event object', {"field": "events"})


def _error(exc: MlplaneError) -> dict[str, Any]:
    return {"error": exc.message, "code": exc.code, "details": exc.details}
