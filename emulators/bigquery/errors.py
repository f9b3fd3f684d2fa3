"""BigQuery-shaped API errors and the middleware that renders them.

The official client picks its exception class from the HTTP status and decides
whether to retry from ``errors[0].reason``; every error therefore carries a
reason, and deterministic failures never use a retryable one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)
_QUOTED_SQL = re.compile(r"\s*\bLINE \d+:.*")

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Mirrors the client's errorResult.reason -> HTTP status table, so a failed job
# and the same failure returned synchronously raise the same exception class.
_REASON_STATUS = {
    "invalidQuery": 400,
    "invalid": 400,
    "resourceInUse": 400,
    "notFound": 404,
    "duplicate": 409,
    "accessDenied": 403,
    "rateLimitExceeded": 429,
    "backendError": 503,
    "internalError": 500,
    "notImplemented": 501,
}


class ApiError(Exception):
    """An error that maps onto one BigQuery error response."""

    def __init__(self, reason: str, message: str, status: int | None = None, location: str = ""):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status or _REASON_STATUS.get(reason, 400)
        self.location = location

    def error_proto(self) -> dict:
        """The ``{"reason", "message"}`` object used in bodies and job errorResult."""
        proto = {"reason": self.reason, "message": self.message, "domain": "global"}
        if self.location:
            proto["location"] = self.location
        return proto

    def body(self) -> dict:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [self.error_proto()],
                "status": _STATUS_NAMES.get(self.status, "UNKNOWN"),
            }
        }


def engine_message(exc: BaseException) -> str:
    """The first line of a DuckDB or sqlglot error: what follows quotes the statement ("LINE 1: SELECT ..."),
    which BigQuery never echoes in an error (and which would carry the emulator's rewritten SQL)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return _QUOTED_SQL.sub("", lines[0]).strip() if lines else type(exc).__name__


def not_found(message: str) -> ApiError:
    return ApiError("notFound", f"Not found: {message}")


def duplicate(message: str) -> ApiError:
    return ApiError("duplicate", f"Already Exists: {message}")


def invalid(message: str) -> ApiError:
    return ApiError("invalid", message)


def invalid_query(message: str) -> ApiError:
    return ApiError("invalidQuery", message)


def not_implemented(message: str) -> ApiError:
    return ApiError("notImplemented", message)


def error_response(err: ApiError) -> web.Response:
    return web.json_response(err.body(), status=err.status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render ApiError, aiohttp HTTP errors and crashes as BigQuery error bodies."""
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = "notFound" if exc.status == 404 else "invalid"
        return error_response(ApiError(reason, exc.reason or "error", status=exc.status))
    except Exception as exc:
        log.exception("unhandled error in %s %s", request.method, request.path)
        # A non-retryable reason: a crash is deterministic, retrying only stalls clients.
        return error_response(ApiError("emulatorError", f"{type(exc).__name__}: {exc}", status=500))
