"""ActionExecutor port: perform one side effect of a rule; ActionLedger: which keys are done."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from domain.types.rules import ActionSpec


class ActionExecutor(Protocol):
    """Performs `action` with `body`, passing `key` along (e.g. an Idempotency-Key header) so a
    receiver can dedupe too. Raises TransientError for what may succeed later (connection errors,
    timeouts, 5xx, 429; `details["retry_after_s"]` when the receiver said when), PermanentError
    for what never will (4xx)."""

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None: ...


class ActionLedger(Protocol):
    """Done-markers by idempotency key, kept for `ttl_s` (longer than any redelivery)."""

    async def is_done(self, key: str) -> bool: ...

    async def mark_done(self, key: str, ttl_s: int) -> None: ...
