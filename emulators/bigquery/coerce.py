"""Coerce JSON values sent to ``tabledata.insertAll`` into typed Python values.

``insert_rows`` sends schema-converted strings while ``insert_rows_json`` passes
user JSON through, so each type accepts both spellings. A value that does not
fit raises ``ValueError`` naming the column, which becomes a per-row insertError.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Callable
from typing import Any

from .bqtypes import canonical_type

_NUMERIC_Q = decimal.Decimal(1).scaleb(-9)
_BIGNUMERIC_Q = decimal.Decimal(1).scaleb(-18)


class CellError(ValueError):
    def __init__(self, location: str, message: str):
        super().__init__(message)
        self.location = location


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("boolean is not an integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | str):
        return int(value)
    raise ValueError(f"cannot convert {value!r} to INT64")


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"cannot convert {value!r} to FLOAT64")
    return float(value)


def _decimal(quantum: decimal.Decimal, int_digits: int) -> Callable[[Any], decimal.Decimal]:
    limit = decimal.Decimal(10) ** int_digits

    def convert(value: Any) -> decimal.Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"cannot convert {value!r} to NUMERIC")
        try:
            number = decimal.Decimal(str(value)).quantize(quantum)
        except decimal.InvalidOperation as exc:
            raise ValueError(f"invalid numeric value {value!r}") from exc
        if not number.is_finite() or abs(number) >= limit:
            raise ValueError(f"numeric value {value!r} is out of range")
        return number

    return convert


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"cannot convert {value!r} to BOOL")


def _string(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ValueError("a STRING cannot hold an object or array")
    return value if isinstance(value, str) else json.dumps(value)


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace(" UTC", "Z"))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _datetime(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is not None:
        raise ValueError("DATETIME values carry no time zone")
    return parsed


def _json(value: Any) -> str:
    if isinstance(value, str):
        json.loads(value)  # must already be JSON text
        return value
    return json.dumps(value)


_SCALAR: dict[str, Callable[[Any], Any]] = {
    "INTEGER": _integer,
    "FLOAT": _float,
    "NUMERIC": _decimal(_NUMERIC_Q, 29),
    "BIGNUMERIC": _decimal(_BIGNUMERIC_Q, 20),  # DECIMAL(38, 18) storage, see bqtypes
    "BOOLEAN": _boolean,
    "STRING": _string,
    "GEOGRAPHY": _string,
    "BYTES": lambda v: base64.b64decode(v, validate=True) if isinstance(v, str) else bytes(v),
    "DATE": lambda v: dt.date.fromisoformat(str(v)),
    "DATETIME": _datetime,
    "TIME": lambda v: dt.time.fromisoformat(str(v)),
    "TIMESTAMP": _timestamp,
    "JSON": _json,
}


def coerce_value(field: dict, value: Any, location: str, ignore_unknown: bool) -> Any:
    """Typed value for one cell; ``None`` and REPEATED/RECORD handled recursively."""
    mode = field.get("mode", "NULLABLE").upper()
    if mode == "REPEATED":
        if value is None:
            return []
        if not isinstance(value, list):
            raise CellError(location, f"field {location} is REPEATED and needs an array")
        scalar = {**field, "mode": "NULLABLE"}
        return [coerce_value(scalar, item, location, ignore_unknown) for item in value]
    if value is None:
        if mode == "REQUIRED":
            raise CellError(location, f"missing required field {location}")
        return None
    if canonical_type(field["type"]) == "RECORD":
        if not isinstance(value, dict):
            raise CellError(location, f"field {location} is a RECORD and needs an object")
        return coerce_row(field.get("fields", []), value, ignore_unknown, prefix=f"{location}.")
    try:
        return _SCALAR[canonical_type(field["type"])](value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise CellError(location, f"cannot convert value for field {location}: {exc}") from exc


def coerce_row(fields: list[dict], row: dict, ignore_unknown: bool, prefix: str = "") -> dict:
    known = {f["name"].lower() for f in fields}
    if not ignore_unknown:
        for key in row:
            if key.lower() not in known:
                raise CellError(prefix + key, f"no such field: {prefix + key}")
    lowered = {key.lower(): val for key, val in row.items()}
    return {
        f["name"]: coerce_value(f, lowered.get(f["name"].lower()), prefix + f["name"], ignore_unknown)
        for f in fields
    }
