"""Errors raised by the emulator and their JSON rendering.

The official client builds exception messages from ``error.message`` and
decides about retries from the status and ``errors[0].reason``, so every error
carries a reason that is never a retryable one unless we mean it (faults).
"""

from __future__ import annotations

from aiohttp import web

_REASONS = {
    304: "notModified",
    400: "invalid",
    404: "notFound",
    409: "conflict",
    412: "conditionNotMet",
    416: "requestedRangeNotSatisfiable",
    429: "rateLimitExceeded",
    500: "internalError",
    501: "notImplemented",
    502: "badGateway",
    503: "backendError",
}


class GcsError(Exception):
    """An HTTP error with a GCS-shaped body."""

    def __init__(self, status: int, message: str, reason: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or _REASONS.get(status, "invalid")
        self.headers = headers or {}


def not_found(message: str) -> GcsError:
    return GcsError(404, message, "notFound")


def bad_request(message: str, reason: str = "invalid") -> GcsError:
    return GcsError(400, message, reason)


def error_body(status: int, message: str, reason: str | None = None) -> dict[str, object]:
    """The JSON error document the JSON API returns."""
    reason = reason or _REASONS.get(status, "invalid")
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def error_response(err: GcsError) -> web.Response:
    """Render ``err``; 304 must not carry a body."""
    if err.status == 304:
        return web.Response(status=304, headers=err.headers)
    return web.json_response(error_body(err.status, err.message, err.reason), status=err.status,
                             headers=err.headers)
