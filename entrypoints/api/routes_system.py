"""Liveness, readiness, Prometheus metrics, the OpenAPI document, and the any-topic event feed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from domain.types.events import Event
from entrypoints.api.event_topics import SLOW_CLIENT_REASON, parse_after, parse_topics
from entrypoints.api.keys import CONTAINER
from entrypoints.api.openapi import openapi_document
from entrypoints.api.streaming import stream_events

routes = web.RouteTableDef()
READY_TIMEOUT_S = 2.0


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    container = request.app[CONTAINER]
    checks = {
        "redis": container.redis().ping(),
        "warehouse": container.warehouse().list_tables(),
        "artifacts": container.artifacts().list("models/"),
    }
    results = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, READY_TIMEOUT_S)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"failing: {type(exc).__name__}"
    if down := container.unpolled_queues():  # a worker of this process reads no jobs: they would wait
        results["workers"] = f"failing: not polling {', '.join(down)}"
    ready = all(v == "ok" for v in results.values())
    return web.json_response({"status": "ready" if ready else "not_ready", "checks": results},
                             status=200 if ready else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@routes.get("/v1/events")
async def any_events(request: web.Request) -> web.StreamResponse:
    """`?topics=` and `?after=` as event_topics.py reads them; 422 before the upgrade when wrong."""
    topics = parse_topics(request.query.get("topics", ""))
    after = parse_after(request.query.get("after"), topics)
    log = request.app[CONTAINER].events()
    subscriptions = [log.subscribe(t, after.get(t)) for t in topics]
    return await stream_events(request, _merge(subscriptions), stop_on_terminal=False, slow_reason=SLOW_CLIENT_REASON)


async def _merge(streams: list[AsyncIterator[Event]]) -> AsyncIterator[Event]:
    """Interleave several topic subscriptions; each topic keeps its own order."""
    queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=256)

    async def pump(stream: AsyncIterator[Event]) -> None:
        async for event in stream:
            await queue.put(event)

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    try:
        while True:
            yield await queue.get()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
