"""Forwards event topics to a WebSocket: backlog then live, with backpressure and clean closes.

A slow client blocks only its own sender (aiohttp's send waits for the socket to drain) and the
event log's per-subscriber buffer is bounded, so memory stays bounded; a client that stays
stuck past the send timeout is disconnected and can resume later with `?after=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from aiohttp import WSMsgType, web

from domain.types.events import Event, event_id_key
from entrypoints.api.keys import SOCKETS

SEND_TIMEOUT_S = 30.0


def parse_after(request: web.Request) -> str | None:
    after = request.query.get("after")
    if after is not None:
        event_id_key(after)  # InvalidSpec (422) naming the expected shape
    return after


async def stream_events(
    request: web.Request, events: AsyncIterator[Event], stop_on_terminal: bool
) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
    await socket.prepare(request)
    request.app[SOCKETS].add(socket)
    sender = asyncio.create_task(_send(socket, events, stop_on_terminal))
    receiver = asyncio.create_task(_receive(socket))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]
        await socket.close()
    return socket


async def _send(socket: web.WebSocketResponse, events: AsyncIterator[Event], stop_on_terminal: bool) -> None:
    async for event in events:
        await asyncio.wait_for(socket.send_str(json.dumps(event.to_dict())), SEND_TIMEOUT_S)
        if stop_on_terminal and event.is_terminal:
            return


async def _receive(socket: web.WebSocketResponse) -> None:
    """Answers application pings (`{"op": "ping"}`) and notices when the client goes away."""
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            payload = json.loads(message.data)
            if payload.get("op") == "ping":
                await socket.send_str(json.dumps({"op": "pong", "nonce": payload.get("nonce")}))
