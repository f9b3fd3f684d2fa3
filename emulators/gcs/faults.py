"""Fault injection: random errors, the Nth request failing, latency, dropped uploads.

Configuration (all keys optional) as accepted by ``POST /_emulator/faults``::

    {"error_rate": 0.2, "status": 503, "seed": 0, "operations": ["upload"],
     "latency_ms": 200, "fail_nth": {"operation": "upload", "n": 3},
     "drop_connection_mid_upload": true}

``error_rate`` draws from a ``random.Random(seed)`` so a given request sequence
fails the same way every run. ``fail_nth`` fails exactly the Nth request (1-based,
counted from when the faults were set) whose operation matches. An operation
matches a pattern equal to it, a dotted prefix of it (``upload`` matches
``upload.chunk``) or ``*``. With ``drop_connection_mid_upload`` a faulted upload
request that carries a body loses its connection halfway through the body
instead of getting ``status``. Admin endpoints are never faulted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from .errors import bad_request, error_body


def matches(pattern: str, operation: str) -> bool:
    return pattern in ("*", "", operation) or operation.startswith(pattern + ".")


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    status: int = 503
    seed: int = 0
    operations: list[str] = field(default_factory=lambda: ["*"])
    latency_ms: int = 0
    fail_nth: dict[str, Any] | None = None
    drop_connection_mid_upload: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise bad_request(f"Unknown fault settings: {sorted(unknown)}")
        config = cls(**data)
        if isinstance(config.operations, str):
            config.operations = [config.operations]
        if config.fail_nth is not None and not isinstance(config.fail_nth, dict):
            raise bad_request('fail_nth must look like {"operation": "upload", "n": 3}.')
        if not 0.0 <= float(config.error_rate) <= 1.0:
            raise bad_request("error_rate must be between 0 and 1.")
        if not 400 <= int(config.status) <= 599:
            raise bad_request("status must be an HTTP error status.")
        if config.fail_nth is not None and int(config.fail_nth.get("n", 0)) < 1:
            raise bad_request("fail_nth.n must be at least 1.")
        return config


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._sleep = sleep  # injectable so tests can observe latency without timing it
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self.nth_seen = 0
        self.requests = 0
        self.injected = 0

    def clear(self) -> None:
        self.configure(FaultConfig())

    def snapshot(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "requests": self.requests,
                "injected": self.injected, "nth_seen": self.nth_seen}

    def should_fail(self, operation: str) -> bool:
        """Count the request and decide whether it fails (updates counters)."""
        self.requests += 1
        fail = False
        nth = self.config.fail_nth
        if nth is not None and matches(str(nth.get("operation", "*")), operation):
            self.nth_seen += 1
            fail = self.nth_seen == int(nth["n"])
        if self.config.error_rate and any(matches(p, operation) for p in self.config.operations):
            # Always draw, so one request's outcome does not shift the others'.
            fail = (self._rng.random() < self.config.error_rate) or fail
        self.injected += fail
        return fail

    async def apply(self, request: web.Request, operation: str) -> web.StreamResponse | None:
        """Return a faulty reply (or drop the connection); None lets the request through."""
        if self.config.latency_ms:
            await self._sleep(self.config.latency_ms / 1000)
        if not self.should_fail(operation):
            return None
        drop = self.config.drop_connection_mid_upload and operation.startswith("upload")
        if drop and await _drop_mid_body(request):
            return web.Response(status=500)  # never reaches the client
        status = int(self.config.status)
        return web.json_response(error_body(status, f"Injected fault ({operation})."), status=status)


async def _drop_mid_body(request: web.Request) -> bool:
    """Read part of the body, then abort the connection. False if there is no body."""
    length = request.content_length or 0
    if length <= 0 or request.transport is None:
        return False
    await request.content.read(max(1, length // 2))
    request.transport.abort()
    return True
