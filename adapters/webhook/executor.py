"""WebhookExecutor: POST the signal as JSON, signed, with a timeout; classify failures for retries.

Headers: `X-Mlplane-Signature: sha256=<hex HMAC of the exact body bytes>` (when the action names
a secret), `Idempotency-Key: <pipeline>:<event id>:<action>` so receivers can dedupe a delivery
repeated after a crash. Connection errors, timeouts, 5xx and 429 are transient (429/503 honour
Retry-After in seconds); other 4xx are permanent. `timeout_s` (default 5 s) bounds the request; a
pipeline's save refuses one that would not end before the actions queue's task timeout, so a slow
receiver is retried as transient instead of the task being cut.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from domain.services.actions import DEFAULT_WEBHOOK_TIMEOUT_S
from domain.types.errors import PermanentError, TransientError
from domain.types.rules import ActionSpec
from ports.secrets import SecretProvider

SIGNATURE_HEADER = "X-Mlplane-Signature"
# A receiver asking to wait longer (or a misconfigured one answering 10^20) would park the action
# for good instead of letting it run out of tries into the dead-letter queue.
MAX_RETRY_AFTER_S = 6 * 3600
# The answer's body is not used; reading it lets the connection be reused, but only a bounded part.
_BODY_READ_LIMIT = 64 * 1024


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookExecutor:
    def __init__(self, secrets: SecretProvider, default_timeout_s: float = DEFAULT_WEBHOOK_TIMEOUT_S) -> None:
        self._secrets, self._timeout = secrets, default_timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        data = json.dumps({**body, "idempotency_key": key}, sort_keys=True, default=str).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if secret_name := action.params.get("secret"):
            secret = await self._secrets.get(str(secret_name))
            if secret is None:
                raise PermanentError(f"webhook secret {secret_name!r} is not configured", {"secret": secret_name})
            headers[SIGNATURE_HEADER] = sign(secret.reveal(), data)
        timeout = aiohttp.ClientTimeout(total=float(action.params.get("timeout_s", self._timeout)))
        try:
            async with self._client().post(action.params["url"], data=data, headers=headers, timeout=timeout) as reply:
                await reply.content.read(_BODY_READ_LIMIT)
                _check(reply.status, reply.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Called once at process shutdown, after the action worker stopped (entrypoints.runtime)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def _check(status: int, retry_after: str | None) -> None:
    if status < 300:
        return
    if status == 429 or status >= 500:
        details = {"status": status}
        if (seconds := retry_after_seconds(retry_after)) is not None:
            details["retry_after_s"] = seconds
        raise TransientError(f"webhook answered {status}", details)
    raise PermanentError(f"webhook answered {status} (not retried)", {"status": status})


def retry_after_seconds(header: str | None) -> int | None:
    """A Retry-After in seconds, at most MAX_RETRY_AFTER_S; None for an HTTP date or anything else
    (the worker's own backoff decides then). ASCII digits only: '²' passes isdigit() but not int()."""
    text = (header or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    return min(int(text), MAX_RETRY_AFTER_S) if len(text) <= 9 else MAX_RETRY_AFTER_S
