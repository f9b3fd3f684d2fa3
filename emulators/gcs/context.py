"""Application keys and small request helpers shared by the handlers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import bad_request
from .faults import FaultInjector
from .resumable import Sessions
from .store import Store

STORE = web.AppKey("store", Store)
SESSIONS = web.AppKey("sessions", Sessions)
FAULTS = web.AppKey("faults", FaultInjector)

Params = dict[str, str]


def base_url(request: web.Request) -> str:
    """Scheme and Host as the client sent them, so links work behind any bind address."""
    return f"{request.scheme}://{request.host}"


async def json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("Request body is not valid JSON.", "parseError") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.", "parseError")
    return body


def int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {raw}") from None
