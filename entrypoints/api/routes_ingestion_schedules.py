"""Scheduled ingestion: cron schedules that keep warehouse tables fresh (the worker's tick submits them)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from domain.services.ingestion_schedules import IngestionSchedule, IngestionScheduleService
from domain.types.errors import DomainError
from entrypoints.api.errors import parse_body
from entrypoints.api.keys import CONTAINER
from entrypoints.api.schemas_ingestion import IngestionScheduleIn

routes = web.RouteTableDef()


@routes.put("/v1/ingestion-schedules/{name}")
async def set_schedule(request: web.Request) -> web.Response:
    """Validates the cron and the spec; sources that match no file yet only give a warning."""
    body = await parse_body(request, IngestionScheduleIn)
    spec = body.ingestion.to_domain()  # the same checks POST /v1/ingestions makes
    schedules = _service(request)
    stored, warnings = await schedules.set(IngestionSchedule(request.match_info["name"], body.cron, spec.to_dict(),
                                                             body.timezone, body.enabled))
    return web.json_response({**await _view(schedules, stored), "warnings": warnings})


@routes.get("/v1/ingestion-schedules")
async def list_schedules(request: web.Request) -> web.Response:
    schedules = _service(request)
    return web.json_response({"schedules": [await _view(schedules, s) for s in await schedules.all()]})


@routes.get("/v1/ingestion-schedules/{name}")
async def get_schedule(request: web.Request) -> web.Response:
    schedules = _service(request)
    return web.json_response(await _view(schedules, await schedules.get(request.match_info["name"])))


@routes.delete("/v1/ingestion-schedules/{name}")
async def delete_schedule(request: web.Request) -> web.Response:
    await _service(request).delete(request.match_info["name"])
    return web.Response(status=204)


def _service(request: web.Request) -> IngestionScheduleService:
    service: IngestionScheduleService = request.app[CONTAINER].ingestion_schedules()
    return service


async def _view(schedules: IngestionScheduleService, schedule: IngestionSchedule) -> dict[str, Any]:
    try:
        next_runs, error = schedules.next_runs(schedule), None
    except DomainError as exc:  # stored by an older release under rules that now refuse it: shown, never a 422
        next_runs, error = [], f"{exc.message}; PUT the schedule again with a valid cron"
    return {**schedule.to_dict(), "next_runs": next_runs, "last_run": await schedules.last_run(schedule.name),
            **({"error": error} if error else {})}
