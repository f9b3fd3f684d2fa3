"""Retraining: on demand (what Cloud Scheduler or cron would call) and on per-model schedules."""

from __future__ import annotations

from aiohttp import web

from domain.services.retrain_policy import RetrainRequest
from domain.services.schedules import Schedule
from domain.types.identifiers import model_name
from entrypoints.api.accepted import accepted
from entrypoints.api.errors import parse_body
from entrypoints.api.keys import CONTAINER
from entrypoints.api.schemas import RetrainIn, ScheduleIn

routes = web.RouteTableDef()


@routes.post("/v1/models/{name}/retrain")
async def retrain(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    body = await parse_body(request, RetrainIn) if request.body_exists else RetrainIn()
    await request.app[CONTAINER].registry().list_versions(name)  # 404 for an unknown model
    record = await request.app[CONTAINER].retrain_jobs().request(RetrainRequest(name, **body.model_dump()))
    return accepted(request, record, f"/v1/training-jobs/{record.id}")


@routes.put("/v1/models/{name}/schedule")
async def set_schedule(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    body = await parse_body(request, ScheduleIn) if request.body_exists else ScheduleIn()
    await request.app[CONTAINER].registry().list_versions(name)
    schedules = request.app[CONTAINER].schedules()
    schedule = await schedules.set(Schedule(name, body.cron, body.timezone, body.enabled, body.retrain.model_dump()))
    return web.json_response(_view(schedule, schedules.next_runs(schedule)))


@routes.get("/v1/schedules")
async def list_schedules(request: web.Request) -> web.Response:
    schedules = request.app[CONTAINER].schedules()
    return web.json_response({"schedules": [_view(s, schedules.next_runs(s)) for s in await schedules.all()]})


def _view(schedule: Schedule, next_runs: list[str]) -> dict[str, object]:
    return {"model": schedule.model, "cron": schedule.cron, "timezone": schedule.timezone,
            "enabled": schedule.enabled, "retrain": schedule.retrain,
            "next_runs": next_runs if schedule.enabled else []}
