"""Fault injection: random errors, added latency and "fail the n-th call".

Configured at start-up or at run time through ``/_emulator/faults``. The RNG is
seeded so a test run is reproducible. Injected errors carry the retryable reason
the client expects for their status, so its default retry policy kicks in.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import asdict, dataclass, field

from aiohttp import web

from .errors import ApiError, Handler, error_response

ADMIN_PREFIX = "/_emulator"
_RETRYABLE_REASON = {429: "rateLimitExceeded", 500: "internalError", 502: "badGateway", 503: "backendError"}


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    status: int = 503
    latency_ms: int = 0
    fail_nth: dict | None = None  # {"operation": "query", "n": 3}
    operations: list[str] = field(default_factory=list)  # empty: every operation
    seed: int = 0

    @classmethod
    def from_json(cls, body: dict) -> FaultConfig:
        known = {k: body[k] for k in asdict(cls()) if k in body}
        config = cls(**known)
        if not 0 <= float(config.error_rate) <= 1 or not 400 <= int(config.status) <= 599:
            raise ValueError("error_rate must be in [0, 1] and status an HTTP error code")
        return config


def _matches(pattern: str, operation: str) -> bool:
    pattern = pattern.lower()
    return pattern in ("*", "") or pattern in operation.lower()


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._nth_count = 0
            self.injected = 0

    def state(self) -> dict:
        return {**asdict(self.config), "injected": self.injected}

    def decide(self, operation: str) -> tuple[float, ApiError | None]:
        """(latency seconds, error or None) for one request to ``operation``."""
        with self._lock:
            cfg = self.config
            error = None
            nth = cfg.fail_nth or {}
            if nth and _matches(str(nth.get("operation", "*")), operation):
                self._nth_count += 1
                if self._nth_count == int(nth.get("n", 1)):
                    error = self._error(int(nth.get("status", cfg.status)), operation)
            in_scope = not cfg.operations or any(_matches(p, operation) for p in cfg.operations)
            if error is None and in_scope and cfg.error_rate and self._rng.random() < cfg.error_rate:
                error = self._error(cfg.status, operation)
            return cfg.latency_ms / 1000.0, error

    def _error(self, status: int, operation: str) -> ApiError:
        self.injected += 1
        reason = _RETRYABLE_REASON.get(status, "injectedFault")
        return ApiError(reason, f"Injected fault ({status}) for {operation}", status=status)


def operation_name(request: web.Request) -> str:
    route = request.match_info.route
    return getattr(route, "name", None) or f"{request.method} {request.path}"


def fault_middleware(injector: FaultInjector):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        delay, error = injector.decide(operation_name(request))
        if delay:
            await asyncio.sleep(delay)
        if error is not None:
            return error_response(error)
        return await handler(request)

    return middleware
