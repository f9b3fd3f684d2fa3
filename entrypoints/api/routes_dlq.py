"""Dead letters: list (filter by pipeline/kind), replay one or many (same idempotency keys), purge."""

from __future__ import annotations

from aiohttp import web

from domain.types.errors import InvalidSpec
from entrypoints.api.keys import CONTAINER

routes = web.RouteTableDef()


def _filters(request: web.Request) -> tuple[str | None, str | None]:
    kind = request.query.get("kind")
    if kind not in (None, "event", "action"):
        raise InvalidSpec("kind is 'event' or 'action'", {"field": "kind"})
    return request.query.get("pipeline"), kind


@routes.get("/v1/dlq")
async def list_letters(request: web.Request) -> web.Response:
    pipeline, kind = _filters(request)
    try:
        limit = min(1000, max(1, int(request.query.get("limit", "100"))))
    except ValueError as exc:
        raise InvalidSpec("limit must be an integer", {"field": "limit"}) from exc
    letters = await request.app[CONTAINER].dead_letter_service().list(pipeline, kind, limit)
    return web.json_response({"items": [d.to_dict() for d in letters]})


@routes.post("/v1/dlq/replay")
async def replay_many(request: web.Request) -> web.Response:
    """`skipped`: event letters of deleted pipelines, kept (a warning per pipeline says what to do);
    `more`: letters remain past the most one call replays (BULK_REPLAY_MAX)."""
    pipeline, kind = _filters(request)
    done = await request.app[CONTAINER].dead_letter_service().replay_all(pipeline, kind)
    return web.json_response({"replayed": done.replayed, "skipped": sum(done.kept.values()), "more": done.more,
                              "warnings": done.warnings()}, status=202)


@routes.post("/v1/dlq/{letter_id}/replay")
async def replay_one(request: web.Request) -> web.Response:
    """409 for an event letter of a deleted pipeline: it is kept (PUT the pipeline again, or DELETE it)."""
    letter = await request.app[CONTAINER].dead_letter_service().replay(request.match_info["letter_id"])
    return web.json_response({"replayed": letter.id, "key": letter.key}, status=202)


@routes.delete("/v1/dlq/{letter_id}")
async def purge(request: web.Request) -> web.Response:
    await request.app[CONTAINER].dead_letter_service().purge(request.match_info["letter_id"])
    return web.json_response({"deleted": request.match_info["letter_id"]})
