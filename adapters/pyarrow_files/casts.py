"""Cast a batch to the planned column types; a row with a value that does not convert goes to rejects.

Three things a plain cast gets wrong, each of which would load a bad value or fail the partition:
a CSV value that is not UTF-8 (strict mode reads CSV as bytes, and text is checked first); a
numeral past the double range, which parses as infinity rather than failing (a 400-digit integer,
1e400); and a value Python cannot hold (a timestamp past year 9999 raises OverflowError in
`as_py`), so the slow path works on Arrow scalars and builds no Python object but the rejects' text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from adapters.pyarrow_files.rejects import RejectsFile

_INFINITY = r"^\s*[-+]?(inf|infinity)\s*$"  # what a double cast reads as infinity on purpose (any case)
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def cast_rows(batch: pa.RecordBatch, types: Mapping[str, pa.DataType], line_of: Callable[[int], int],
              rejects: RejectsFile) -> pa.RecordBatch:
    """Cast columns to their target types; rows with a value that does not convert go to rejects."""
    bad: dict[int, str] = {}  # row -> why
    arrays = [_column(batch.column(name), types.get(name), name, bad) for name in batch.schema.names]
    out = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
    if not bad:
        return out
    for row, reason in sorted(bad.items()):
        rejects.add(line_of(row), reason, ",".join(value_text(column[row]) for column in batch.columns))
    return out.filter(pa.array([i not in bad for i in range(out.num_rows)]))


def value_text(value: pa.Scalar) -> str:
    """A value as the file had it, for the rejects file, whatever its type or range."""
    if not value.is_valid:
        return ""
    if pa.types.is_binary(value.type):
        return str(value.as_py().decode(errors="replace"))
    try:
        return str(value.cast(pa.string()).as_py())
    except _CAST_ERRORS:  # nested types have no text cast
        try:
            return str(value)
        except (ValueError, OverflowError):
            return f"<{value.type} value>"


def _column(column: pa.Array, target: pa.DataType | None, name: str, bad: dict[int, str]) -> pa.Array:
    if pa.types.is_binary(column.type) and target != column.type:
        column = _cast(column, pa.string(), name, bad)  # CSV bytes (strict mode): text first
    return column if target is None or column.type == target else _cast(column, target, name, bad)


def _cast(column: pa.Array, target: pa.DataType, name: str, bad: dict[int, str]) -> pa.Array:
    try:
        cast = pc.cast(column, target)
    except _CAST_ERRORS:
        return _cast_valid(column, target, name, bad)
    return _cast_valid(column, target, name, bad) if _overflowed(column, cast) else cast


def _overflowed(text: pa.Array, cast: pa.Array) -> bool:
    """Whether a text value became infinity without saying so (fast: one pass, only on text to float)."""
    if not pa.types.is_floating(cast.type) or not _is_text(text.type):
        return False
    infinite = pc.is_inf(cast)
    if not pc.any(infinite).as_py():
        return False
    written = pc.match_substring_regex(text, _INFINITY, ignore_case=True)
    return bool(pc.any(pc.and_(infinite, pc.invert(written))).as_py())


def _cast_valid(column: pa.Array, target: pa.DataType, name: str, bad: dict[int, str]) -> pa.Array:
    """Slow path, only for a batch that holds a bad value: cast value by value, nulls in place of bad ones."""
    keep = []
    for i in range(len(column)):
        reason = _refusal(column[i], target)
        if reason is not None:
            bad.setdefault(i, f"column {name}: {reason}")
        keep.append(reason is None)
    if not any(keep):
        return pa.nulls(len(column), target)
    return pc.cast(pc.if_else(pa.array(keep), column, pa.scalar(None, column.type)), target)


def _refusal(value: pa.Scalar, target: pa.DataType) -> str | None:
    """Why one value does not convert, or None when it does."""
    try:
        cast = value.cast(target)
    except _CAST_ERRORS:
        if pa.types.is_binary(value.type) and pa.types.is_string(target):
            return f"{_shown(value)!r} is not UTF-8 text"
        return f"{_shown(value)!r} is not a valid {target}"
    if pa.types.is_floating(target) and cast.is_valid and math.isinf(cast.as_py()) and _is_text(value.type) \
            and not re.match(_INFINITY, value.as_py(), re.IGNORECASE):
        return f"{_shown(value)!r} is too large for a {target}"
    return None


def _shown(value: pa.Scalar) -> str:
    """The value in a reason, cut short (the rejects' text column holds the row in full)."""
    text = value_text(value)
    return text if len(text) <= 100 else f"{text[:100]}... ({len(text)} characters)"


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
