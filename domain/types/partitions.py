"""How an ingestion is split and what each part reported: files, partitions, plans, reports, loads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from domain.types.ingestion import Dedupe, IngestionSpec, SourceFormat, WriteMode, plain
from domain.types.sharding import Sharding


@dataclass(frozen=True)
class SourceFile:
    """One input file as the planner sees it."""

    uri: str
    format: SourceFormat
    size: int
    columns: tuple[str, ...]
    types: Mapping[str, str] = field(default_factory=dict)  # column -> Arrow type alias, where known
    row_groups: tuple[int, ...] = ()  # Parquet: rows per row group
    rows: int = 0  # how many data rows: exact for Parquet, estimated from the sampled head for CSV; 0 = unknown
    spread: Mapping[str, int] = field(default_factory=dict)  # column -> distinct values seen or possible, where known


@dataclass(frozen=True)
class CsvLayout:
    """Where a CSV file may be cut: byte offsets at line starts, and the line number there."""

    cuts: tuple[int, ...]  # offsets of data-line starts, the first is just past the header
    lines: tuple[int, ...]  # 1-based physical line number at each cut
    quoted_newlines: bool  # a quoted field spans lines: byte ranges are unsafe
    size: int  # the file's size as scanned (the planner checks it against the size it was submitted with)


@dataclass(frozen=True)
class Piece:
    """A slice of one file: a CSV byte range [start, end) or a set of Parquet row groups."""

    uri: str
    format: SourceFormat
    start: int = 0
    end: int = -1  # -1: to the end of the file
    first_line: int = 2  # CSV: physical line number of the first row in the range
    row_groups: tuple[int, ...] = ()  # Parquet: indices; empty = all
    bytes: int = 0


@dataclass(frozen=True)
class Partition:
    index: int
    pieces: tuple[Piece, ...]

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.pieces)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(asdict(self))
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Partition:
        pieces = tuple(Piece(**{**p, "format": SourceFormat(p["format"]), "row_groups": tuple(p["row_groups"])})
                       for p in raw["pieces"])
        return cls(int(raw["index"]), pieces)


@dataclass(frozen=True)
class PartitionReport:
    index: int
    rows_read: int
    rows_rejected: int
    null_rows_dropped: int
    rows_written: int
    bytes_read: int
    staged_uris: tuple[str, ...]  # one per shard
    rejects_uri: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "staged_uris": list(self.staged_uris)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PartitionReport:
        fields = dict(raw)
        if "staged_uri" in fields:  # a report staged before shards existed, read by a newer commit
            fields["staged_uris"] = [fields.pop("staged_uri")]
        return cls(**{**fields, "staged_uris": tuple(fields["staged_uris"])})


@dataclass(frozen=True)
class IngestionReport:
    table: str
    mode: WriteMode
    partitions: Sequence[PartitionReport]
    rows_loaded: int = 0

    @property
    def rows_read(self) -> int:
        return sum(p.rows_read for p in self.partitions)

    @property
    def rows_rejected(self) -> int:
        return sum(p.rows_rejected for p in self.partitions)

    @property
    def reject_ratio(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0

    def to_dict(self) -> dict[str, Any]:
        staged = sum(p.rows_written for p in self.partitions)
        return {"table": self.table, "mode": self.mode.value, "rows_read": self.rows_read,
                "rows_rejected": self.rows_rejected, "reject_ratio": round(self.reject_ratio, 6),
                "null_rows_dropped": sum(p.null_rows_dropped for p in self.partitions),
                "rows_staged": staged, "duplicates_dropped": max(staged - self.rows_loaded, 0),
                "rows_loaded": self.rows_loaded,
                "rejects_files": [p.rejects_uri for p in self.partitions if p.rejects_uri],
                "partitions": [p.to_dict() for p in self.partitions]}


@dataclass(frozen=True)
class LoadRequest:
    """Staged Parquet files to load into `table` in one statement, at most once per `load_id`."""

    table: str
    shards: tuple[tuple[str, ...], ...]  # files per shard: each shard is de-duplicated on its own
    mode: WriteMode
    dedupe: Dedupe
    keys: tuple[str, ...]
    load_id: str

    @property
    def uris(self) -> tuple[str, ...]:
        return tuple(uri for shard in self.shards for uri in shard)


@dataclass(frozen=True)
class IngestionInputs:
    """What the submit learnt from the files' headers and footers, kept in the job record (key `inputs`):
    the planning task splits exactly these files, as they were when the ingestion was accepted."""

    spec: IngestionSpec
    columns: tuple[str, ...]
    column_types: Mapping[str, str]  # column -> Arrow type alias
    files: tuple[SourceFile, ...]
    column_spread: Mapping[str, int] = field(default_factory=dict)  # the first file's SourceFile.spread

    @property
    def bytes_total(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        # Per file only what the split needs: the columns and types every file shares are stored once.
        files = [{"uri": f.uri, "format": f.format.value, "size": f.size, "row_groups": list(f.row_groups),
                  "rows": f.rows} for f in self.files]
        inputs = {"columns": list(self.columns), "column_types": dict(self.column_types),
                  "column_spread": dict(self.column_spread), "files": files}
        return {**self.spec.to_dict(), "inputs": inputs}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IngestionInputs:
        inputs = raw["inputs"]
        columns, types = tuple(inputs["columns"]), dict(inputs["column_types"])
        files = tuple(SourceFile(f["uri"], SourceFormat(f["format"]), int(f["size"]), columns, types,
                                 tuple(f["row_groups"]), int(f.get("rows", 0))) for f in inputs["files"])
        return cls(IngestionSpec.from_dict(raw), columns, types, files, dict(inputs.get("column_spread", {})))


@dataclass(frozen=True)
class IngestionPlan:
    """What every partition task needs, stored in the job record so any process can run a partition."""

    spec: IngestionSpec
    columns: tuple[str, ...]
    column_types: Mapping[str, str]  # column -> Arrow type alias
    partitions: tuple[Partition, ...]
    sharding: Sharding = field(default_factory=Sharding)

    def to_dict(self) -> dict[str, Any]:
        return {**self.spec.to_dict(), "plan": {"columns": list(self.columns), "column_types": dict(self.column_types),
                                                "partitions": [p.to_dict() for p in self.partitions],
                                                "sharding": self.sharding.to_dict()}}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IngestionPlan:
        plan = raw["plan"]
        return cls(IngestionSpec.from_dict(raw), tuple(plan["columns"]), dict(plan["column_types"]),
                   tuple(Partition.from_dict(p) for p in plan["partitions"]), Sharding.from_dict(plan.get("sharding")))


def planned_partitions(record_spec: Mapping[str, Any]) -> int | None:
    """How many partitions an ingestion record's plan has; None while the plan is still being made."""
    plan = record_spec.get("plan")
    return None if plan is None else len(plan["partitions"])
