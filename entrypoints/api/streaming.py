"""Forwards event topics to a WebSocket: backlog then live, with backpressure and clean closes.

Memory per socket is bounded however slow the client: the sender pulls the next event only once
the previous one is written (aiohttp's send waits for the socket to drain), the merge queue and
the event log's per-subscriber buffer are capped (a full buffer means "re-read the stream later",
never "grow"), and so is the transport's write buffer. A client that takes longer than the send
timeout to accept one event is disconnected with close code 1013 (try again later), after every
event already written; it resumes with `?after=` its last event id (the close reason says how:
`/v1/events` with several topics takes one id per topic). If it does not even read
the close frame, the connection is dropped after CLOSE_TIMEOUT_S, which frees its buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, WSMsgType, web

from domain.types.events import Event, event_id_key
from entrypoints.api.keys import CONTAINER, SOCKETS
from ports.event_log import EventLog

CLOSE_TIMEOUT_S = 5.0
STORED_PAGE = 1000
log = logging.getLogger(__name__)


SLOW_CLIENT_REASON = b"client too slow; reconnect with ?after=<the last event id you received>"


class SlowClient(Exception):
    """The client did not accept an event within the send timeout (MLPLANE_WS_SEND_TIMEOUT_S)."""


def parse_after(request: web.Request) -> str | None:
    after = request.query.get("after")
    if after is not None:
        event_id_key(after)  # InvalidSpec (422) naming the expected shape
    return after


async def stored_events(log: EventLog, topic: str, after: str | None) -> AsyncIterator[Event]:
    """The events stored after `after`, then the end: for a topic that gets no more (a finished job's)."""
    while batch := await log.read(topic, after=after, limit=STORED_PAGE):
        for event in batch:
            yield event
        after = batch[-1].id


async def stream_events(
    request: web.Request, events: AsyncIterator[Event], stop_on_terminal: bool,
    slow_reason: bytes = SLOW_CLIENT_REASON,
) -> web.WebSocketResponse:
    """`slow_reason`: the 1013 close reason, telling a slow client how this endpoint resumes."""
    socket = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
    await socket.prepare(request)
    request.app[SOCKETS].add(socket)
    timeout = request.app[CONTAINER].settings().ws_send_timeout_s
    sender = asyncio.create_task(_send(socket, events, stop_on_terminal, timeout))
    receiver = asyncio.create_task(_receive(socket))
    code, reason = WSCloseCode.OK, b""
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if sender.done() and isinstance(sender.exception(), SlowClient):
            code, reason = WSCloseCode.TRY_AGAIN_LATER, slow_reason
            log.warning("slow WebSocket client disconnected (%s): no event accepted in %.0fs", request.path,
                        timeout)
    finally:
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]
        await close_within(request, socket, code, reason)
    return socket


async def close_within(request: web.Request, socket: web.WebSocketResponse, code: int, reason: bytes) -> None:
    """Send the close frame and wait for the reply, but never longer than CLOSE_TIMEOUT_S."""
    try:
        await asyncio.wait_for(socket.close(code=code, message=reason), CLOSE_TIMEOUT_S)
    except TimeoutError:
        if request.transport is not None:
            request.transport.abort()  # a client that reads nothing would hold the buffers forever


async def _send(socket: web.WebSocketResponse, events: AsyncIterator[Event], stop_on_terminal: bool,
                timeout: float) -> None:
    async for event in events:
        try:
            await asyncio.wait_for(socket.send_str(json.dumps(event.to_dict())), timeout)
        except TimeoutError:
            raise SlowClient() from None
        if stop_on_terminal and event.is_terminal:
            return


async def _receive(socket: web.WebSocketResponse) -> None:
    """Answers application pings (`{"op": "ping"}`) and notices when the client goes away."""
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        # Anything but a ping is ignored. RecursionError too ([[[[...]]]]): escaping, it ended the
        # receiver, and with it the whole event stream, closed as if normally.
        with contextlib.suppress(ValueError, TypeError, AttributeError, RecursionError):
            payload = json.loads(message.data)
            if payload.get("op") == "ping":
                await socket.send_str(json.dumps({"op": "pong", "nonce": payload.get("nonce")}))
