"""SignalRecorder: copies a pipeline's signals into its `signals_table`, one row per event.

Decoupled from the inference hot path on purpose: it reads `signals:{pipeline}` with a consumer
group of its own (`recorder:{pipeline}`), so a slow or unreachable warehouse delays the table,
never the signals or the actions. Rows are appended only for event ids not in the table yet
(the warehouse's `append_new`), and entries are acked only after that write: a redelivered
event (two signals with one event id) or a batch re-read after a crash adds no second row.

The recorder writes only into a signals table: before each write it checks that the table is
missing (the write creates it) or holds exactly a signals table's columns (`not_a_signals_table`).
A data table of that name, even one created after the pipeline was saved, is left untouched:
the entries stay pending and the error is logged until the table or the config changes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.types.errors import Conflict, TableNotFound, TransientError
from domain.types.streams import StreamEntry
from domain.types.tables import TableInfo
from ports.clock import Clock
from ports.signal_source import SignalSource
from ports.warehouse import Warehouse

if TYPE_CHECKING:  # loaded by the first batch recorded: a daemon with no signals_table never pays ~50 MiB
    import pyarrow as pa

log = logging.getLogger(__name__)
_FIXED = [("event_id", "string"), ("entity", "string"), ("model_version", "int64"), ("score", "float64"),
          ("label", "string"), ("latency_ms", "float64")]
_OWN_COLUMNS = frozenset({*(name for name, _ in _FIXED), "written_at"})
_MAX_PAUSE_S = 30.0


def recorder_group(pipeline: str) -> str:
    return f"recorder:{pipeline}"


def not_a_signals_table(info: TableInfo) -> str | None:
    """Why an existing table is not a signals table (None when it is one). A signals table holds
    the recorder's fixed columns, written_at and f_<feature> columns, and nothing else: writing into
    any other table would add those columns to it and mix signal rows into its data."""
    names = {column.name for column in info.columns}
    missing = sorted(_OWN_COLUMNS - names)
    foreign = sorted(name for name in names - _OWN_COLUMNS if not name.startswith("f_"))
    if not missing and not foreign:
        return None
    found = f"it has columns a signals table does not ({_some(foreign)})" if foreign else ""
    lacks = f"it lacks {_some(missing)}" if missing else ""
    return f"table {info.name!r} exists and is not a signals table: {'; '.join(filter(None, (found, lacks)))}"


def _some(names: Sequence[str]) -> str:
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


class SignalRecorder:
    def __init__(self, pipeline: str, table: str, *, source: SignalSource, warehouse: Warehouse, clock: Clock,
                 batch_size: int = 1000, block_ms: int = 1000, claim_idle_ms: int = 30_000) -> None:
        self.pipeline, self.table = pipeline, table
        self._source, self._warehouse, self._clock = source, warehouse, clock
        self._batch_size, self._block_ms, self._claim_idle_ms = batch_size, block_ms, claim_idle_ms

    async def run(self, stop: asyncio.Event) -> None:
        """Record until `stop` is set; a failed write pauses (doubling, up to 30 s) and is retried."""
        pause, next_claim = 0.5, 0.0
        while not stop.is_set():
            try:
                if (now := self._clock.now().timestamp()) >= next_claim:
                    next_claim = now + max(0.05, self._claim_idle_ms / 4000)
                    await self.process(await self._source.claim_stale(self._claim_idle_ms, self._batch_size))
                await self.process(await self._source.read(self._batch_size, self._block_ms))
                pause = 0.5
            except TransientError as exc:
                log.warning("signals of %s not recorded yet (retrying): %s", self.pipeline, exc.message)
                await self._clock.sleep(pause)
                pause = min(_MAX_PAUSE_S, pause * 2)
            except Conflict as exc:  # not our table: nothing changes until someone acts, so wait the longest
                log.error("signals of %s are not recorded: %s; rename that table or change the pipeline's "
                          "signals_table (checked again every %.0f s)", self.pipeline, exc.message, _MAX_PAUSE_S)
                await self._clock.sleep(_MAX_PAUSE_S)
            except Exception:  # e.g. a column type the table refuses: keep the entries pending, say why
                log.exception("signals of %s: writing to table %s failed; retrying", self.pipeline, self.table)
                await self._clock.sleep(pause)
                pause = min(_MAX_PAUSE_S, pause * 2)

    async def process(self, entries: Sequence[StreamEntry]) -> int:
        """Write one batch (new event ids only), then ack it; returns rows written."""
        if not entries:
            return 0
        written_at = self._clock.now()
        rows = [row for row in (_row(e, written_at) for e in entries) if row is not None]
        written = await self._write(rows) if rows else 0
        await self._source.ack([e.id for e in entries])
        return written

    async def _write(self, rows: list[dict[str, Any]]) -> int:
        """Checked before every batch, not once: the table may be created or replaced (an ingestion
        with mode replace) at any time. One metadata read, small beside the write itself."""
        try:
            problem = not_a_signals_table(await self._warehouse.describe(self.table))
        except TableNotFound:
            problem = None  # the write creates it
        if problem is not None:
            raise Conflict(problem, {"table": self.table, "pipeline": self.pipeline})
        return await self._warehouse.append_new(self.table, _table(rows), "event_id")


def _row(entry: StreamEntry, written_at: datetime) -> dict[str, Any] | None:
    """A table row from one signal entry; None (logged, then acked) for an entry that is not a signal."""
    try:
        signal = json.loads(entry.raw)
        features: Mapping[str, Any] = signal.get("features") or {}
        row: dict[str, Any] = {"event_id": str(signal["event_id"]), "entity": str(signal["entity"]),
                               "model_version": int(signal["model_version"]), "score": float(signal["score"]),
                               "label": None if signal.get("label") is None else str(signal["label"]),
                               "latency_ms": float(signal.get("latency_ms") or 0.0)}
        row.update({f"f_{name}": float(value) for name, value in features.items()})
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("signal entry %s is not a signal (%s: %s); skipped", entry.id, type(exc).__name__, exc)
        return None
    row["written_at"] = written_at
    return row


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    """Stable column types whatever the batch holds; features (f_*) sorted, null where a row lacks one."""
    import pyarrow as pa

    features = sorted({k for row in rows for k in row if k.startswith("f_")})
    fixed = [(name, pa.type_for_alias(alias)) for name, alias in _FIXED]
    schema = pa.schema([*fixed, *((name, pa.float64()) for name in features),
                        ("written_at", pa.timestamp("us", tz="UTC"))])
    return pa.Table.from_pylist(rows, schema=schema)
