"""Bulk ingestion: submit (202 at once, before the split into partitions), then the final report; the
plan and the progress stream on the job's events."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import Counter

from entrypoints.api.accepted import accepted
from entrypoints.api.errors import parse_body
from entrypoints.api.keys import CONTAINER
from entrypoints.api.schemas_ingestion import IngestionIn, accepted_fields

SUBMITTED = Counter("mlplane_ingestions_submitted_total", "Ingestions accepted")
routes = web.RouteTableDef()


@routes.post("/v1/ingestions")
async def submit(request: web.Request) -> web.Response:
    spec = (await parse_body(request, IngestionIn)).to_domain()
    record = await request.app[CONTAINER].ingestion().submit(spec)
    SUBMITTED.inc()
    return accepted(request, record, f"/v1/ingestions/{record.id}", **accepted_fields(record))


@routes.get("/v1/ingestions/{ingestion_id}")
async def get_ingestion(request: web.Request) -> web.Response:
    """The job record; `result` holds the final report once the state is `completed`."""
    record = await request.app[CONTAINER].ingestion().get(request.match_info["ingestion_id"])
    return web.json_response(record.to_dict())
