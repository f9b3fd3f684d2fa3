"""One place that turns every error into `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from domain.types import errors
from domain.types.config_fields import kind

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)

_STATUS: list[tuple[type[errors.MlplaneError], int]] = [
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.InvalidSpec, 422),
    (errors.DomainError, 400),
    (errors.TransientError, 503),
    (errors.PermanentError, 500),
]


def error_response(status: int, code: str, message: str, details: Any = None) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return web.json_response(body, status=status)


def from_exception(exc: BaseException) -> web.Response:
    if isinstance(exc, errors.MlplaneError):
        status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 500)
        return error_response(status, exc.code, exc.message, exc.details)
    if isinstance(exc, web.HTTPException):
        code = exc.reason.lower().replace(" ", "_")
        return error_response(exc.status, code, exc.text or exc.reason)
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error; see the server log for the request id")


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; every problem becomes a 4xx naming it."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    return loads(await request.read(), "body")  # read() raises 413 past client_max_size


def loads(text: bytes | str, what: str) -> Any:
    """Parse JSON from a client: malformed text is an InvalidSpec naming where, never a 500."""
    try:
        return json.loads(text)
    except RecursionError:  # the decoder recurses once per nesting level: [[[[...]]]] exhausts the stack
        raise errors.InvalidSpec(f"malformed JSON {what}: nested too deeply", {"position": None}) from None
    except ValueError as exc:  # bad syntax, bad UTF-8, or an integer past Python's 4300-digit limit
        raise errors.InvalidSpec(f"malformed JSON {what}: {exc}", {"position": getattr(exc, "pos", None)}) from None


async def parse_body(request: web.Request, model: type[Model]) -> Model:
    """Read a JSON body into `model`; every problem becomes a 4xx naming what to fix."""
    data = await read_json(request)
    if not isinstance(data, dict):  # else pydantic's "valid dictionary or instance of TrainingSpecIn"
        raise errors.InvalidSpec(f"the body must be a JSON object, got {kind(data)}", {"field": "body"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems[:5])
        raise errors.InvalidSpec(f"invalid request: {summary}", {"errors": problems}) from exc
