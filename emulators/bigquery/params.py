"""Decode BigQuery query parameters into DuckDB types and Python bind values."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from typing import Any

from .bqtypes import canonical_type, field_duckdb_type
from .errors import invalid


def _as_field(ptype: dict) -> dict:
    """Express a parameterType as a schema field so one type mapping serves both."""
    kind = canonical_type(ptype.get("type", "STRING"))
    if kind == "ARRAY":
        return {**_as_field(ptype.get("arrayType") or {}), "mode": "REPEATED"}
    if kind == "RECORD":
        subs = [{"name": s.get("name") or f"_field_{i}", **_as_field(s["type"])}
                for i, s in enumerate(ptype.get("structTypes", []))]
        return {"type": "RECORD", "fields": subs}
    return {"type": kind}


def _timestamp(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


_SCALARS = {
    "INTEGER": int,
    "FLOAT": float,
    "NUMERIC": decimal.Decimal,
    "BIGNUMERIC": decimal.Decimal,
    "BOOLEAN": lambda v: str(v).lower() == "true",
    "STRING": str,
    "GEOGRAPHY": str,
    "JSON": lambda v: v if isinstance(v, str) else json.dumps(v),
    "BYTES": base64.b64decode,
    "DATE": dt.date.fromisoformat,
    "DATETIME": lambda v: dt.datetime.fromisoformat(v),
    "TIME": dt.time.fromisoformat,
    "TIMESTAMP": _timestamp,
}


def _value(ptype: dict, pvalue: dict | None) -> Any:
    if pvalue is None:
        return None
    kind = canonical_type(ptype.get("type", "STRING"))
    if kind == "ARRAY":
        items = pvalue.get("arrayValues")
        return None if items is None else [_value(ptype.get("arrayType") or {}, v) for v in items]
    if kind == "RECORD":
        values = pvalue.get("structValues") or {}
        return {
            s.get("name") or f"_field_{i}": _value(s["type"], values.get(s.get("name")))
            for i, s in enumerate(ptype.get("structTypes", []))
        }
    raw = pvalue.get("value")
    return None if raw is None else _SCALARS[kind](raw)


def decode_parameter(param: dict) -> tuple[str | None, str, Any]:
    """(name, DuckDB type, Python value) for one queryParameters entry."""
    ptype = param.get("parameterType") or {}
    try:
        duck_type = field_duckdb_type(_as_field(ptype))
        return param.get("name"), duck_type, _value(ptype, param.get("parameterValue"))
    except (ValueError, KeyError, TypeError, decimal.InvalidOperation) as exc:
        raise invalid(f"Invalid query parameter {param.get('name') or ''}: {exc}") from exc
