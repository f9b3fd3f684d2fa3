"""``tabledata.insertAll`` and ``tabledata.list`` (sync parts, run under the engine lock)."""

from __future__ import annotations

from collections import OrderedDict

import duckdb
import pyarrow as pa

from .bqtypes import arrow_schema
from .coerce import CellError, coerce_row
from .engine import duck_table_exists, one, qualified
from .errors import invalid, not_found
from .tables import ensure_table, table_fields
from .writes import write_arrow

_DEDUP_WINDOW = 100_000


def _row_error(index: int, reason: str, message: str, location: str = "") -> dict:
    return {"index": index, "errors": [{"reason": reason, "location": location, "message": message}]}


def _coerce_all(fields: list[dict], rows: list, ignore_unknown: bool) -> tuple[list, list]:
    good, errors = [], []
    for index, row in enumerate(rows):
        try:
            data = row.get("json") if isinstance(row, dict) else None
            if not isinstance(data, dict):
                raise CellError("", "row has no 'json' object")
            good.append((index, row.get("insertId"), coerce_row(fields, data, ignore_unknown)))
        except CellError as exc:
            errors.append(_row_error(index, "invalid", str(exc), exc.location))
    return good, errors


def _dedup(seen: OrderedDict, good: list) -> list:
    fresh = []
    for index, insert_id, values in good:
        if insert_id:
            if insert_id in seen:
                continue
            seen[insert_id] = None
            if len(seen) > _DEDUP_WINDOW:
                seen.popitem(last=False)
        fresh.append((index, insert_id, values))
    return fresh


def insert_all(con: duckdb.DuckDBPyConnection, ref: tuple[str, str, str], body: dict, dedup: dict) -> list:
    """Write the valid rows; returns insertErrors. Without skipInvalidRows one bad
    row stops the whole request (other rows reported as ``stopped``), like BigQuery."""
    fields = table_fields(con, *ref)
    if not fields:
        raise invalid(f"Table {ref[0]}:{ref[1]}.{ref[2]} has no schema")
    good, errors = _coerce_all(fields, body.get("rows") or [], bool(body.get("ignoreUnknownValues")))
    if errors and not body.get("skipInvalidRows"):
        stopped = [_row_error(i, "stopped", "") for i, _, _ in good]
        return sorted(errors + stopped, key=lambda e: e["index"])
    fresh = _dedup(dedup.setdefault(ref, OrderedDict()), good)
    if fresh:
        ensure_table(con, *ref, fields)
        try:
            data = pa.Table.from_pylist([values for _, _, values in fresh], schema=arrow_schema(fields))
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise invalid(f"Rows do not match the table schema: {exc}") from exc
        write_arrow(con, ref, data, fields=fields, write="WRITE_APPEND")
    return errors


def list_rows(con: duckdb.DuckDBPyConnection, ref: tuple[str, str, str], start: int,
              limit: int, selected: list[str] | None) -> tuple[list[dict], pa.Table, int]:
    """(fields, rows as Arrow, total rows) for one page of a table."""
    fields = table_fields(con, *ref)
    if selected:
        wanted = {s.lower() for s in selected}
        fields = [f for f in fields if f["name"].lower() in wanted]
        if not fields:
            raise invalid("selectedFields matched no column")
    if not duck_table_exists(con, *ref):
        if fields is None:
            raise not_found(f"Table {ref[0]}:{ref[1]}.{ref[2]}")
        return fields, pa.Table.from_pylist([], schema=arrow_schema(fields)), 0
    total = one(con, f"SELECT count(*) FROM {qualified(*ref)}")[0]
    cols = ", ".join('"' + f["name"].replace('"', '""') + '"' for f in fields)
    rel = con.sql(f"SELECT {cols} FROM {qualified(*ref)} LIMIT {int(limit)} OFFSET {int(start)}")
    return fields, rel.to_arrow_table(), int(total)
