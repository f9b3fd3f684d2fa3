"""ActionRunner: runs one action task (from the `actions` queue) at most once per idempotency key.

The done-marker is written after the side effect succeeds; a crash between the two can repeat
the effect, which is why every executor passes the key on (webhooks get an Idempotency-Key
header). Transient errors propagate so the queue retries with backoff; any other failure (a
permanent error, a bug, a warehouse refusing the row) and the last failed try (`give_up`) park
the action in the dead-letter queue with cause and attempts: an action never just disappears.
Causes are stored with URL credentials taken out (the DLQ is read by others than who configured it).

`record` rows have fixed columns and one `f_<feature>` per feature; `record_table_problem` tells
why an existing table cannot take them, at pipeline save and when an append fails.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from domain.types.errors import InvalidSpec, MlplaneError, PermanentError, TransientError
from domain.types.redaction import redact_urls
from domain.types.rules import ActionSpec
from domain.types.tables import ColumnInfo, TableInfo
from ports.action_executor import ActionExecutor, ActionLedger
from ports.dead_letters import DeadLetters
from ports.warehouse import Warehouse

DONE_TTL_S = 7 * 24 * 3600  # longer than any redelivery or DLQ replay window we support
DEFAULT_WEBHOOK_TIMEOUT_S = 5.0  # a webhook action that sets no timeout_s
# What a webhook task does besides its request (secret, ledger): its timeout must leave this much of the
# queue's, so a slow receiver ends as a transient error that is retried, not as a task cut by the queue.
WEBHOOK_TIMEOUT_MARGIN_S = 1.0
# Type names that hold text in the warehouses we support (DuckDB, BigQuery) and in Arrow.
_TEXT_TYPES = ("VARCHAR", "STRING", "TEXT", "LARGE_STRING", "CHAR", "BPCHAR")
log = logging.getLogger(__name__)


def check_webhook_timeouts(actions: Sequence[ActionSpec], queue_timeout_s: float) -> None:
    """InvalidSpec naming the first webhook whose timeout_s does not fit in the actions queue's task timeout."""
    limit = queue_timeout_s - WEBHOOK_TIMEOUT_MARGIN_S
    for index, action in enumerate(actions):
        timeout = float(action.params.get("timeout_s", DEFAULT_WEBHOOK_TIMEOUT_S))
        if action.type == "webhook" and timeout > limit:
            raise InvalidSpec(
                f"actions[{index}] ({action.name!r}): webhook timeout_s {timeout:g} does not fit in the actions "
                f"queue's task timeout of {queue_timeout_s:g} s (MLPLANE_ACTIONS_TIMEOUT_S), which would cut the "
                f"request and give the action up unretried: set timeout_s to at most {max(limit, 0):g}, or raise "
                "MLPLANE_ACTIONS_TIMEOUT_S", {"field": f"actions[{index}].timeout_s", "max": max(limit, 0)})


def record_columns(features: Sequence[str]) -> dict[str, bool]:
    """The columns a `record` action writes, each mapped to whether it holds text (else a number)."""
    return {"key": True, "event_id": True, "entity": True, "model_version": False, "score": False,
            "label": True, **{f"f_{name}": False for name in features}}


def record_table_problem(info: TableInfo, features: Sequence[str]) -> tuple[str, list[str]] | None:
    """Why the existing table `info` cannot take a `record` action's rows, and the columns at fault
    (None when it can). Names are compared ignoring case, as the warehouses do."""
    table = {c.name.lower(): c for c in info.columns}
    writes = {name.lower(): text for name, text in record_columns(features).items()}
    missing = [name for name in writes if name not in table]
    wrong = [name for name, text in writes.items() if name in table and not _holds(table[name], text)]
    required = [c.name for c in info.columns if not c.nullable and c.name.lower() not in writes]
    if not (missing or wrong or required):
        return None
    typed = ", ".join(f"{name} ({table[name].type})" for name in wrong)
    parts = [f"it has no column(s) {', '.join(missing)}" if missing else "",
             f"column(s) {typed} cannot hold the action's values" if wrong else "",
             f"column(s) {', '.join(required)} are NOT NULL and the action does not write them" if required else ""]
    return f"table {info.name!r} cannot take its rows: {'; '.join(filter(None, parts))}", [*missing, *wrong, *required]


def _holds(column: ColumnInfo, text: bool) -> bool:
    """Text goes into text columns only; a number also fits a text column (the warehouse casts it)."""
    is_text = column.type.upper().startswith(_TEXT_TYPES)
    return is_text if text else (column.numeric or is_text)


class WarehouseRecordExecutor:
    """`record`: append the signal as one row (features flattened to `f_<name>` columns)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        import pyarrow as pa  # here: a process that runs no `record` action need not load it

        features = dict(body.get("features") or {})
        row: dict[str, Any] = {"key": key, "event_id": body.get("event_id"), "entity": body.get("entity"),
                               "model_version": body.get("model_version"), "score": body.get("score"),
                               "label": str(body.get("label"))}
        row.update({f"f_{k}": float(v) for k, v in features.items()})
        table = action.params["table"]
        try:
            await self._warehouse.append(table, pa.Table.from_pylist([row]))
        except MlplaneError:
            raise
        except Exception as exc:  # the warehouse's own words are cryptic: say which columns do not fit, if that is it
            problem = await self._explain(table, list(features))
            if problem is None:
                raise
            raise PermanentError(f"record action {action.name!r}: {problem[0]}; name a new table (the action "
                                 "creates it) or make this one fit", {"table": table, "columns": problem[1]}) from exc

    async def _explain(self, table: str, features: list[str]) -> tuple[str, list[str]] | None:
        try:
            return record_table_problem(await self._warehouse.describe(table), features)
        except MlplaneError:  # gone meanwhile, or the warehouse is away: the original error says more
            return None


class ActionRunner:
    def __init__(self, executors: Mapping[str, ActionExecutor], ledger: ActionLedger,
                 dead_letters: DeadLetters) -> None:
        self._executors, self._ledger, self._dlq = executors, ledger, dead_letters

    async def run(self, payload: Mapping[str, Any], attempt: int = 1) -> None:
        """`attempt`: this try's number as the queue counts it (a try that failed transiently counts)."""
        key = str(payload["key"])
        if await self._ledger.is_done(key):
            return  # a redelivery or a replay of something that already happened
        try:
            await self._execute(payload, key)
        except TransientError:
            raise  # the queue retries it, and gives up into the DLQ when tries run out
        except MlplaneError as exc:  # permanent, or a payload that no longer reads as an action
            await self._park(payload, exc.message, attempt)
            return
        except Exception as exc:  # a bug, or a failure no adapter classified: repeating it would not help
            # The traceback, not exc_info: a formatted exception repeats its message (and its URLs) unredacted.
            trace = redact_urls("".join(traceback.format_exception(exc)).rstrip())
            log.error("action %s failed unexpectedly: %s", key, trace)
            await self._park(payload, f"{type(exc).__name__}: {exc}", attempt)
            return
        await self._ledger.mark_done(key, DONE_TTL_S)

    async def give_up(self, payload: Mapping[str, Any], message: str, attempts: int) -> None:
        await self._park(payload, message, attempts)

    async def _execute(self, payload: Mapping[str, Any], key: str) -> None:
        action = ActionSpec.from_dict(payload["action"])
        executor = self._executors.get(action.type)
        if executor is None:
            raise PermanentError(f"no executor for action type {action.type!r}")
        await executor.execute(action, key, payload["body"])

    async def _park(self, payload: Mapping[str, Any], cause: str, attempts: int) -> None:
        cause = redact_urls(cause)
        log.warning("action %s dead-lettered: %s", payload.get("key"), cause)
        await self._dlq.park("action", str(payload["pipeline"]), str(payload["key"]), cause, attempts, dict(payload))
