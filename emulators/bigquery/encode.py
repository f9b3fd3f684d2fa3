"""Encode Arrow result columns as BigQuery REST rows (``{"f": [{"v": ...}]}``).

Wire formats follow what the client's cell parsers expect: numbers and
booleans as strings, BYTES as base64, TIMESTAMP as integer microseconds (the
client always asks for ``useInt64Timestamp``), DATETIME with a ``T``.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from .bqtypes import canonical_type

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)


def _float(value: Any) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _timestamp(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str((value - _EPOCH) // _MICRO)


def _decimal(value: Any) -> str:
    return format(value, "f")


_SCALAR: dict[str, Callable[[Any], Any]] = {
    "INTEGER": lambda v: str(int(v)),
    "FLOAT": _float,
    "NUMERIC": _decimal,
    "BIGNUMERIC": _decimal,
    "BOOLEAN": lambda v: "true" if v else "false",
    "BYTES": lambda v: base64.b64encode(v).decode("ascii"),
    "DATE": lambda v: v.isoformat(),
    "DATETIME": lambda v: v.isoformat(),
    "TIME": lambda v: v.isoformat(),
    "TIMESTAMP": _timestamp,
}


def cell_encoder(field: dict) -> Callable[[Any], Any]:
    """A function turning one Python cell value into its REST ``v`` payload."""
    bq_type = canonical_type(field.get("type", "STRING"))
    if bq_type == "RECORD":
        subs = [(sub["name"], cell_encoder(sub)) for sub in field.get("fields", [])]

        def scalar(value: Any) -> Any:
            return {"f": [{"v": None if value.get(n) is None else enc(value.get(n))} for n, enc in subs]}
    else:
        scalar = _SCALAR.get(bq_type, str)
    if field.get("mode", "").upper() == "REPEATED":
        # An empty or NULL array is [] on the wire, never null.
        return lambda values: [{"v": None if x is None else scalar(x)} for x in values or []]
    return scalar


def _column_values(column: pa.ChunkedArray, field: dict) -> list:
    # Top-level timestamps go through int64 so no tz-aware datetimes are built.
    if pa.types.is_timestamp(column.type) and canonical_type(field["type"]) == "TIMESTAMP":
        if column.type.unit != "us":
            column = column.cast(pa.timestamp("us", tz=column.type.tz))
        return column.cast(pa.int64()).to_pylist()
    return column.to_pylist()


def encode_rows(table: pa.Table, fields: list[dict]) -> list[dict]:
    """All rows of ``table`` as REST rows, encoded with the BigQuery schema."""
    columns = []
    for index, field in enumerate(fields):
        encoder = cell_encoder(field)
        values = _column_values(table.column(index), field)
        if field.get("mode", "").upper() == "REPEATED":
            columns.append([encoder(v) for v in values])
        else:
            columns.append([None if v is None else encoder(v) for v in values])
    return [{"f": [{"v": v} for v in row]} for row in zip(*columns, strict=True)] if columns else []
