"""Shared state of one emulator instance, attached to the aiohttp app."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field

from aiohttp import web

from .engine import Engine
from .errors import invalid
from .faults import FaultInjector
from .jobs import JobStore

DEFAULT_PROJECT = "test"


@dataclass
class EmulatorState:
    engine: Engine
    faults: FaultInjector
    project: str = DEFAULT_PROJECT
    gcs_url: str | None = None
    jobs: JobStore = field(default_factory=JobStore)
    # jobs.query requestId -> job id, so a retried request returns the first job.
    request_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    uploads: dict = field(default_factory=dict)
    # table -> recently seen insertAll insertIds (best-effort dedup, as BigQuery does).
    insert_ids: dict = field(default_factory=dict)
    tmp: tempfile.TemporaryDirectory = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bq-emulator-")
    )


STATE = web.AppKey("bigquery_state", EmulatorState)


def state_of(request: web.Request) -> EmulatorState:
    return request.app[STATE]


async def json_body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError as exc:
        raise invalid(f"Invalid JSON payload: {exc}") from exc
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    return body


async def json_reply(state: EmulatorState, body: dict) -> web.Response:
    """JSON response serialised on a worker thread: result pages can be megabytes."""
    text = await state.engine.offload(json.dumps, body)
    return web.Response(text=text, content_type="application/json")


def flag(request: web.Request, name: str) -> bool:
    """Boolean query parameter; the client sends Python's ``True``/``False``."""
    return request.query.get(name, "").lower() in ("true", "1")


def int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid(f"Invalid value for {name}: {raw!r}") from exc


def paginate(items: list, max_results: int | None, token: str | None) -> tuple[list, str | None]:
    """Offset-based pages; the token is the offset of the next page."""
    start = int(token) if token and token.isdigit() else 0
    end = len(items) if not max_results else start + max_results
    return items[start:end], (str(end) if end < len(items) else None)
