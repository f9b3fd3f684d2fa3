"""The ingestion planner: check the input, then split it into partitions of about equal bytes.

Checking reads only what headers and footers say (cheap: done before the 202); splitting may read
whole CSV files (done in the planning task). Parquet files split at row groups; CSV files at byte
ranges cut on line starts (a file with a quoted newline stays whole, because a cut inside a quoted
field would corrupt two rows); small files are grouped so that a thousand tiny files do not make a
thousand tasks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from domain.services.ingestion_shards import DEFAULT_SHARD_ROWS, plan_sharding
from domain.types.errors import InvalidSpec, SourceChanged
from domain.types.ingestion import ARROW_ALIASES, IngestionSpec, SourceFormat, check_unnamed_column
from domain.types.partitions import IngestionInputs, IngestionPlan, Partition, Piece, SourceFile
from ports.bulk_files import BulkFiles

TARGET_PARTITION_BYTES = 64 << 20  # 'auto' makes partitions of about this size...
DEFAULT_MAX_AUTO = 8  # ...but no more of them than this (the workers that can run at once)


async def plan_ingestion(files: BulkFiles, spec: IngestionSpec, max_auto: int = DEFAULT_MAX_AUTO,
                         shard_rows: int = DEFAULT_SHARD_ROWS) -> IngestionPlan:
    """Check, then split, in one go; raises InvalidSpec naming what to fix."""
    return await split_inputs(files, await check_inputs(files, spec), max_auto, shard_rows)


async def check_inputs(files: BulkFiles, spec: IngestionSpec) -> IngestionInputs:
    """The files, their shared columns and types, from headers and footers only; InvalidSpec names what to fix."""
    sources = list(await files.expand(spec.sources, spec.format))
    columns = _shared_columns(sources, spec)
    check_unnamed_column(sources[0].uri, columns)  # in the order staging writes them: the first file's
    # The first file's types hold for all, so every staged file has one schema; the spec overrides.
    types = {**sources[0].types, **{c: ARROW_ALIASES[t] for c, t in spec.cleaning.schema.items()}}
    return IngestionInputs(spec, columns, types, tuple(sources), sources[0].spread)


async def split_inputs(files: BulkFiles, inputs: IngestionInputs, max_auto: int = DEFAULT_MAX_AUTO,
                       shard_rows: int = DEFAULT_SHARD_ROWS) -> IngestionPlan:
    """The partitions of the checked files and the commit's shards; SourceChanged when a CSV to cut vanished
    or changed size since."""
    partitions = await _partitions(files, inputs.spec, list(inputs.files), max_auto)
    rows = sum(f.rows for f in inputs.files)
    sharding = plan_sharding(inputs.spec, inputs.columns, inputs.column_types, rows, shard_rows, inputs.column_spread)
    return IngestionPlan(inputs.spec, inputs.columns, inputs.column_types, tuple(partitions), sharding)


async def _partitions(files: BulkFiles, spec: IngestionSpec, sources: list[SourceFile], max_auto: int,
                      ) -> list[Partition]:
    total = sum(s.size for s in sources)
    count = spec.partitions or max(1, min(max_auto, math.ceil(total / TARGET_PARTITION_BYTES)))
    piece_target = max(total / count, 1.0)
    pieces: list[Piece] = []
    for source in sources:
        pieces.extend(await _split(files, source, piece_target))
    return group(pieces, count)


def group(pieces: Sequence[Piece], count: int) -> list[Partition]:
    """Contiguous groups of about total/count bytes each; never an empty partition."""
    total = max(sum(p.bytes for p in pieces), 1)
    groups: list[list[Piece]] = [[] for _ in range(max(1, count))]
    seen = 0
    for piece in pieces:
        # A piece belongs to the share its middle byte falls in: equal pieces land one per group.
        groups[min(len(groups) - 1, int((seen + piece.bytes / 2) * len(groups) / total))].append(piece)
        seen += piece.bytes
    kept = [g for g in groups if g]
    return [Partition(i, tuple(_merge_row_groups(g))) for i, g in enumerate(kept)]


async def _split(files: BulkFiles, source: SourceFile, target: float) -> list[Piece]:
    if source.format is SourceFormat.PARQUET:
        return _row_group_pieces(source)
    parts = max(1, round(source.size / target))
    if parts == 1:
        return [Piece(source.uri, source.format, bytes=source.size)]
    layout = await files.csv_layout(source.uri, [source.size * k // parts for k in range(1, parts)])
    if layout.size != source.size:  # byte ranges measured on another file than the one checked would cut rows
        raise SourceChanged(f"{source.uri} changed since the ingestion was submitted ({source.size} bytes, now "
                            f"{layout.size}); submit the ingestion again", {"field": "sources", "source": source.uri})
    if layout.quoted_newlines:  # fall back to the whole file: only a full parse knows where rows end
        return [Piece(source.uri, source.format, bytes=source.size)]
    ends = (*layout.cuts[1:], source.size)
    return [Piece(source.uri, source.format, start, end, line, bytes=end - start)
            for start, end, line in zip(layout.cuts, ends, layout.lines, strict=True) if end > start]


def _row_group_pieces(source: SourceFile) -> list[Piece]:
    rows = sum(source.row_groups) or 1
    return [Piece(source.uri, source.format, row_groups=(i,), bytes=max(1, source.size * n // rows))
            for i, n in enumerate(source.row_groups)] or [Piece(source.uri, source.format, bytes=source.size)]


def _merge_row_groups(pieces: list[Piece]) -> list[Piece]:
    """Adjacent row groups of one Parquet file become one piece (one file open, not many)."""
    merged: list[Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last and piece.row_groups and last.row_groups and last.uri == piece.uri:
            merged[-1] = Piece(last.uri, last.format, row_groups=last.row_groups + piece.row_groups,
                               bytes=last.bytes + piece.bytes)
        else:
            merged.append(piece)
    return merged


def _shared_columns(sources: Sequence[SourceFile], spec: IngestionSpec) -> tuple[str, ...]:
    columns = sources[0].columns
    for source in sources[1:]:
        if set(source.columns) != set(columns):
            raise InvalidSpec(f"{source.uri} has columns {list(source.columns)}, but {sources[0].uri} has "
                              f"{list(columns)}: every source must have the same columns", {"field": "sources"})
    missing = [c for c in spec.named_columns if c not in columns]
    if missing:
        raise InvalidSpec(f"the sources have no column(s) {', '.join(missing)}",
                          {"field": "keys/cleaning", "missing": missing, "available": list(columns)})
    return columns
