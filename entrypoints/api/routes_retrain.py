"""Retraining: on demand (what Cloud Scheduler or cron would call) and on per-model schedules."""

from __future__ import annotations

from aiohttp import web

from domain.services.retrain_policy import RetrainRequest
from domain.services.schedules import Schedule, ScheduleService
from domain.types.errors import DomainError, ScheduleNotFound
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
    versions = await request.app[CONTAINER].registry().list_versions(name)  # 404 for an unknown model
    retrains = request.app[CONTAINER].retrain_jobs()
    wanted = RetrainRequest(name, **body.model_dump())
    await retrains.check(wanted, versions)  # a metric the task does not report: 422 before any training
    record = await retrains.request(wanted)  # no alias to retrain from: 422
    return accepted(request, record, f"/v1/training-jobs/{record.id}")


@routes.put("/v1/models/{name}/schedule")
async def set_schedule(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    body = await parse_body(request, ScheduleIn) if request.body_exists else ScheduleIn()
    versions = await request.app[CONTAINER].registry().list_versions(name)
    schedules = request.app[CONTAINER].schedules()
    wanted = Schedule(name, body.cron, body.timezone, body.enabled, body.retrain.model_dump())
    # A bad metric is a 422; no alias yet is only a warning: a schedule may be set up before the first
    # promotion, and its fires are skipped (logged) until the alias exists.
    warnings = await request.app[CONTAINER].retrain_jobs().check(wanted.request(), versions)
    schedule = await schedules.set(wanted)
    return web.json_response({**await _view(schedules, schedule), "warnings": warnings})


@routes.get("/v1/models/{name}/schedule")
async def get_schedule(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    schedules = request.app[CONTAINER].schedules()
    schedule = await schedules.get(name)
    if schedule is None:
        await request.app[CONTAINER].registry().list_versions(name)  # an unknown model: its own 404
        raise ScheduleNotFound(f"model {name!r} has no retraining schedule; PUT one to create it", {"model": name})
    return web.json_response(await _view(schedules, schedule))


@routes.delete("/v1/models/{name}/schedule")
async def delete_schedule(request: web.Request) -> web.Response:
    name = model_name(request.match_info["name"])
    if not await request.app[CONTAINER].schedules().delete(name):
        raise ScheduleNotFound(f"model {name!r} has no retraining schedule to delete", {"model": name})
    return web.Response(status=204)


@routes.get("/v1/schedules")
async def list_schedules(request: web.Request) -> web.Response:
    schedules = request.app[CONTAINER].schedules()
    return web.json_response({"schedules": [await _view(schedules, s) for s in await schedules.all()]})


async def _view(schedules: ScheduleService, schedule: Schedule) -> dict[str, object]:
    """`last_fire`: the latest fire's time and job id (null, with a warning, when it could not be requested)."""
    try:
        next_runs, error = (schedules.next_runs(schedule) if schedule.enabled else []), None
    except DomainError as exc:  # stored by an older release under rules that now refuse it: shown, never a 422
        next_runs, error = [], f"{exc.message}; PUT the schedule again with a valid cron"
    return {"model": schedule.model, "cron": schedule.cron, "timezone": schedule.timezone,
            "enabled": schedule.enabled, "retrain": schedule.retrain, "created_at": schedule.created_at,
            "active_since": schedule.active_since, "next_runs": next_runs,
            "last_fire": await schedules.last_fire(schedule.model), **({"error": error} if error else {})}
