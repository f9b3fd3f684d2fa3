"""Training jobs: submit (202 at once), inspect, cancel, and watch live over a WebSocket."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import Counter

from domain.services.job_events import JobEvents
from domain.types.events import job_topic
from entrypoints.api.accepted import accepted
from entrypoints.api.errors import parse_body
from entrypoints.api.keys import CONTAINER
from entrypoints.api.schemas import TrainingSpecIn
from entrypoints.api.streaming import parse_after, stored_events, stream_events

SUBMITTED = Counter("mlplane_training_jobs_submitted_total", "Training jobs accepted")
routes = web.RouteTableDef()


@routes.post("/v1/training-jobs")
async def submit(request: web.Request) -> web.Response:
    spec = (await parse_body(request, TrainingSpecIn)).to_domain()
    record = await request.app[CONTAINER].training().submit(spec)
    SUBMITTED.inc()
    return accepted(request, record, f"/v1/training-jobs/{record.id}")


@routes.get("/v1/training-jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    record = await request.app[CONTAINER].training().get(request.match_info["job_id"])
    return web.json_response(record.to_dict())


@routes.delete("/v1/training-jobs/{job_id}")
async def cancel_job(request: web.Request) -> web.Response:
    record = await request.app[CONTAINER].training().cancel(request.match_info["job_id"])
    return web.json_response(record.to_dict(), status=202 if not record.is_terminal else 200)


@routes.get("/v1/training-jobs/{job_id}/events")
async def job_events(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["job_id"]
    after = parse_after(request)
    container = request.app[CONTAINER]
    record = await container.training().get(job_id)  # 404 before the upgrade, not a silent socket
    log = container.events()
    if record.is_terminal and await JobEvents(log, container.clock(), job_id).has_terminal_event():
        # Nothing more will come: the stored events after `after` (none for a client that already has the
        # terminal event), then the close. A live subscription would wait for an event never sent.
        return await stream_events(request, stored_events(log, job_topic(job_id), after), stop_on_terminal=True)
    return await stream_events(request, log.subscribe(job_topic(job_id), after), stop_on_terminal=True)

