"""The 202 answer every job-creating endpoint gives: the job id, its state, and where to watch it.

Training, retraining and ingestion jobs share one event topic per job, so one WebSocket endpoint
serves them all.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from domain.types.jobs import JobRecord


def accepted(request: web.Request, record: JobRecord, location: str, **extra: Any) -> web.Response:
    events_url = f"/v1/training-jobs/{record.id}/events"
    scheme = "wss" if request.scheme == "https" else "ws"
    body = {**extra, "job_id": record.id, "status": record.state.value, "events_url": events_url,
            "ws_url": f"{scheme}://{request.host}{events_url}"}
    return web.json_response(body, status=202, headers={"Location": location})
