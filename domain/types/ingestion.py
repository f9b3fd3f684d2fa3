"""Ingestion value types: what to load (IngestionSpec), how it is split (Partition), what happened (reports)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from domain.types.errors import InvalidSpec
from domain.types.identifiers import sql_identifier

MAX_PARTITIONS = 256
COLUMN_TYPES = frozenset({"string", "int64", "float64", "bool", "timestamp", "date"})


class SourceFormat(StrEnum):
    AUTO = "auto"
    CSV = "csv"
    PARQUET = "parquet"


class WriteMode(StrEnum):
    APPEND = "append"
    REPLACE = "replace"
    UPSERT = "upsert"


class Dedupe(StrEnum):
    NONE = "none"
    EXACT = "exact"  # identical rows
    KEYS = "keys"  # one row per key


class Dispatch(StrEnum):
    QUEUE = "queue"  # partitions go on the arq `ingestion` queue
    EXTERNAL = "external"  # partitions are run by `mlplane ingest-task` (Cloud Run Jobs)


@dataclass(frozen=True)
class Cleaning:
    dedupe: Dedupe = Dedupe.NONE
    drop_nulls: tuple[str, ...] = ()  # rows with a null in any of these columns are dropped
    schema: Mapping[str, str] = field(default_factory=dict)  # column -> one of COLUMN_TYPES; else inferred


@dataclass(frozen=True)
class IngestionSpec:
    sources: tuple[str, ...]
    table: str
    format: SourceFormat = SourceFormat.AUTO
    mode: WriteMode = WriteMode.APPEND
    keys: tuple[str, ...] = ()
    cleaning: Cleaning = field(default_factory=Cleaning)
    partitions: int | None = None  # None: auto
    max_reject_ratio: float = 0.05
    dispatch: Dispatch = Dispatch.QUEUE

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def named_columns(self) -> tuple[str, ...]:
        """Every column the spec names, which the source must have."""
        return tuple(dict.fromkeys((*self.keys, *self.cleaning.drop_nulls, *self.cleaning.schema)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(asdict(self))
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IngestionSpec:
        c = raw.get("cleaning") or {}
        cleaning = Cleaning(Dedupe(c.get("dedupe", "none")), tuple(c.get("drop_nulls", ())), dict(c.get("schema", {})))
        return cls(tuple(raw["sources"]), raw["table"], SourceFormat(raw.get("format", "auto")),
                   WriteMode(raw.get("mode", "append")), tuple(raw.get("keys", ())), cleaning,
                   raw.get("partitions"), float(raw.get("max_reject_ratio", 0.05)),
                   Dispatch(raw.get("dispatch", "queue")))


def _validate(spec: IngestionSpec) -> None:
    if not spec.sources:
        raise InvalidSpec("give at least one source (a path, a glob or a URI)", {"field": "sources"})
    sql_identifier(spec.table, "table")
    for column in spec.named_columns:
        sql_identifier(column, "column")
    if spec.mode is WriteMode.UPSERT and not spec.keys:
        raise InvalidSpec("mode 'upsert' needs key columns ('keys')", {"field": "keys"})
    if spec.cleaning.dedupe is Dedupe.KEYS and not spec.keys:
        raise InvalidSpec("dedupe 'keys' needs key columns ('keys')", {"field": "keys"})
    bad_types = {c: t for c, t in spec.cleaning.schema.items() if t not in COLUMN_TYPES}
    if bad_types:
        raise InvalidSpec(f"unknown column type(s) {bad_types}; use one of {sorted(COLUMN_TYPES)}",
                          {"field": "cleaning.schema"})
    if spec.partitions is not None and not 1 <= spec.partitions <= MAX_PARTITIONS:
        raise InvalidSpec(f"partitions must be 'auto' or 1..{MAX_PARTITIONS}", {"field": "partitions"})
    if not 0.0 <= spec.max_reject_ratio <= 1.0:
        raise InvalidSpec("max_reject_ratio must be between 0 and 1", {"field": "max_reject_ratio"})


def check_column_names(source: str, names: Sequence[str]) -> None:
    """A source's own column names, which the spec does not have to name: printable and unique. Two names
    differing only in case (the warehouse compares names ignoring case) would be renamed by the load
    (`A_1`) without a word; a line break in a quoted header name shifts every line after it when a
    partition skips the header. One empty name (the index column pandas' to_csv() writes) is named by
    the warehouse (see `loaded_names`); two of them would clash."""
    details = {"field": "sources", "source": source}
    for position, name in enumerate(names, start=1):
        if any(unicodedata.category(c) == "Cc" for c in name):
            raise InvalidSpec(f"{source}: column {position} has a control character (line break, tab, NUL) in its "
                              f"name {name[:100]!r}; rename it", details)
    counts = Counter(name.casefold() for name in names)  # two empty names clash too
    if repeated := [n for n in names if counts[n.casefold()] > 1]:
        raise InvalidSpec(f"{source}: the header names the same column more than once (names are compared ignoring "
                          f"case): {', '.join(repr(n[:100]) for n in repeated)}; give every column its own name",
                          {**details, "columns": repeated})


def loaded_names(columns: Sequence[str]) -> list[str]:
    """The names the warehouse gives the columns: an empty one is named `C` and its position from 0 (`C0` for
    pandas' index column), as DuckDB names a Parquet column with no name."""
    return [name or f"C{position}" for position, name in enumerate(columns)]


def check_unnamed_column(source: str, columns: Sequence[str]) -> None:
    """The name the warehouse gives an empty column must not be another column's: the load would fail."""
    named = {name.casefold(): position for position, name in enumerate(columns, start=1) if name}
    for position, loaded in enumerate(loaded_names(columns), start=1):
        if not columns[position - 1] and (other := named.get(loaded.casefold())):
            raise InvalidSpec(f"{source}: column {position} has no name, and the warehouse would name it {loaded!r}, "
                              f"the name of column {other}; name column {position} in the header",
                              {"field": "sources", "source": source, "columns": [loaded]})


def column_mismatch(table: str, mode: WriteMode, existing: Sequence[str], incoming: Sequence[str]) -> str | None:
    """Why rows with the `incoming` columns cannot be written into the table as it is (names compared ignoring
    case, as the warehouse does), or None when they can. A column the table lacks has nowhere to go. A column
    the files lack is NULL in the appended rows, but an upsert would overwrite the matched rows' values with it."""
    have, bring = {c.casefold() for c in existing}, {c.casefold() for c in incoming}
    extra = [c for c in incoming if c.casefold() not in have]
    missing = [c for c in existing if c.casefold() not in bring] if mode is WriteMode.UPSERT else []
    if not extra and not missing:
        return None
    problems = ([f"column(s) {', '.join(extra)} that it lacks"] if extra else []) + \
        ([f"no column(s) {', '.join(missing)} that it has (an upsert would set them to NULL)"] if missing else [])
    return (f"table {table!r} has columns {', '.join(existing)}, and the sources have {' and '.join(problems)}: "
            f"mode {mode.value!r} writes rows into the table as it is, so give the files the table's columns, or use "
            "mode 'replace' to replace the table (and its rows) with the files' columns")


def plain(value: Any) -> Any:
    """Enums to their values, tuples to lists: JSON-ready."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


# Spec column types as Arrow type aliases (pyarrow.type_for_alias), the form plans carry.
ARROW_ALIASES: Mapping[str, str] = {"string": "string", "int64": "int64", "float64": "double", "bool": "bool",
                                    "timestamp": "timestamp[us]", "date": "date32"}
