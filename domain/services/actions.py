"""ActionRunner: runs one action task (from the `actions` queue) at most once per idempotency key.

The done-marker is written after the side effect succeeds; a crash between the two can repeat
the effect, which is why every executor passes the key on (webhooks get an Idempotency-Key
header). Transient errors propagate so the queue retries with backoff; permanent ones, and the
last failed try (`give_up`), park the action in the dead-letter queue with cause and attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from domain.types.errors import PermanentError
from domain.types.rules import ActionSpec
from ports.action_executor import ActionExecutor, ActionLedger
from ports.dead_letters import DeadLetters
from ports.warehouse import Warehouse

DONE_TTL_S = 7 * 24 * 3600  # longer than any redelivery or DLQ replay window we support
log = logging.getLogger(__name__)


class WarehouseRecordExecutor:
    """`record`: append the signal as one row (features flattened to `f_<name>` columns)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        import pyarrow as pa  # here: a process that runs no `record` action need not load it

        row: dict[str, Any] = {"key": key, "event_id": body.get("event_id"), "entity": body.get("entity"),
                               "model_version": body.get("model_version"), "score": body.get("score"),
                               "label": str(body.get("label"))}
        row.update({f"f_{k}": float(v) for k, v in dict(body.get("features") or {}).items()})
        await self._warehouse.append(action.params["table"], pa.Table.from_pylist([row]))


class ActionRunner:
    def __init__(self, executors: Mapping[str, ActionExecutor], ledger: ActionLedger,
                 dead_letters: DeadLetters) -> None:
        self._executors, self._ledger, self._dlq = executors, ledger, dead_letters

    async def run(self, payload: Mapping[str, Any], attempt: int = 1) -> None:
        """`attempt`: this try's number as the queue counts it (a try that failed transiently counts)."""
        key = str(payload["key"])
        if await self._ledger.is_done(key):
            return  # a redelivery or a replay of something that already happened
        action = ActionSpec.from_dict(payload["action"])
        executor = self._executors.get(action.type)
        if executor is None:
            await self._park(payload, f"no executor for action type {action.type!r}", attempt)
            return
        try:
            await executor.execute(action, key, payload["body"])
        except PermanentError as exc:
            await self._park(payload, exc.message, attempt)
            return
        await self._ledger.mark_done(key, DONE_TTL_S)

    async def give_up(self, payload: Mapping[str, Any], message: str, attempts: int) -> None:
        await self._park(payload, message, attempts)

    async def _park(self, payload: Mapping[str, Any], cause: str, attempts: int) -> None:
        log.warning("action %s dead-lettered: %s", payload.get("key"), cause)
        await self._dlq.park("action", str(payload["pipeline"]), str(payload["key"]), cause, attempts, dict(payload))
