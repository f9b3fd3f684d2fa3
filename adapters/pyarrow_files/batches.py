"""Record batches of one piece (a CSV byte range or Parquet row groups), with bad rows sent to rejects.

CSV is parsed with the planned column types (fast path). pyarrow cannot skip a row whose value
does not convert, so on the first conversion error the caller re-reads the partition in `strict`
mode: every column as text, then cast batch by batch, rejecting exactly the rows that fail.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from adapters.pyarrow_files.locations import RemoteConfig, is_remote, local_path, open_binary, size
from adapters.pyarrow_files.rejects import RejectsFile
from domain.types.ingestion import SourceFormat
from domain.types.partitions import Piece

# CSV block: the unit of memory per partition (pyarrow holds ~35 blocks); 1 MiB parses as fast as 4 MiB.
BLOCK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 32_768  # half a staged row group: two decoded batches at most in flight


def piece_batches(piece: Piece, columns: Sequence[str], types: Mapping[str, pa.DataType], rejects: RejectsFile,
                  strict: bool, gcs: RemoteConfig | None) -> Iterator[tuple[pa.RecordBatch, float]]:
    """(batch, fraction of the piece consumed so far) pairs."""
    if piece.format is SourceFormat.PARQUET and is_remote(piece.uri):
        with open_binary(piece.uri, gcs) as handle:
            yield from _parquet(piece, handle, columns, types, rejects)
    elif piece.format is SourceFormat.PARQUET:
        yield from _parquet(piece, str(local_path(piece.uri)), columns, types, rejects)  # native reads
    else:
        yield from _csv(piece, columns, types, rejects, strict, gcs)


@contextlib.contextmanager
def _byte_range(uri: str, start: int, end: int, gcs: RemoteConfig | None) -> Iterator[tuple[pa.NativeFile, int]]:
    """A stream of bytes [start, end) of the file and its length; native (no GIL) for local files."""
    length = (end if end >= 0 else size(uri, gcs)) - start
    if is_remote(uri):
        with open_binary(uri, gcs) as handle:
            handle.seek(start)
            yield pa.PythonFile(_Limited(handle, length), mode="r"), length
        return
    with pa.OSFile(str(local_path(uri))) as handle:
        yield handle.get_stream(start, length), length


class _Limited(io.RawIOBase):
    """At most `remaining` bytes of a reader: the end of a byte range on a remote object."""

    def __init__(self, inner: IO[bytes], remaining: int) -> None:
        self._inner, self._remaining = inner, remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        data = self._inner.read(min(len(buffer), self._remaining)) if self._remaining > 0 else b""
        buffer[: len(data)] = data
        self._remaining -= len(data)
        return len(data)


def _csv(piece: Piece, columns: Sequence[str], types: Mapping[str, pa.DataType], rejects: RejectsFile,
         strict: bool, gcs: RemoteConfig | None) -> Iterator[tuple[pa.RecordBatch, float]]:
    skip = 1 if piece.start == 0 else 0  # a range from 0 still holds the header line
    base = 0 if piece.start == 0 else piece.first_line - 1  # file line = base + line in the stream
    skipped: list[int] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        line = None if row.number is None else base + row.number
        skipped.append(line or 0)
        rejects.add(line, f"expected {row.expected_columns} columns, found {row.actual_columns}", row.text)
        return "skip"

    read = pacsv.ReadOptions(column_names=list(columns), skip_rows=skip, block_size=BLOCK_BYTES, use_threads=False)
    parse = pacsv.ParseOptions(invalid_row_handler=invalid, newlines_in_values=piece.end < 0)
    parse_types = {c: pa.string() for c in columns} if strict else dict(types)
    convert = pacsv.ConvertOptions(column_types=parse_types, strings_can_be_null=True)
    with _byte_range(piece.uri, piece.start, piece.end, gcs) as (stream, length):
        emitted = 0
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        for blocks, batch in enumerate(reader, start=1):
            if strict:
                first = emitted
                emitted += batch.num_rows
                batch = cast_rows(batch, types, lambda i, first=first: _line_of(base + skip + 1 + first + i, skipped),
                                  rejects)
            # Each batch is one parsed block of about BLOCK_BYTES: progress without a seekable stream.
            yield batch, min(blocks * BLOCK_BYTES / max(length, 1), 1.0)


def _line_of(line: int, skipped: Sequence[int]) -> int:
    """Physical line of a parsed row, stepping over the lines the parser skipped as invalid."""
    for bad in sorted(skipped):
        if bad <= line:
            line += 1
    return line


def _parquet(piece: Piece, handle: str | IO[bytes], columns: Sequence[str], types: Mapping[str, pa.DataType],
             rejects: RejectsFile) -> Iterator[tuple[pa.RecordBatch, float]]:
    file = pq.ParquetFile(handle)
    groups = list(piece.row_groups) or list(range(file.num_row_groups))
    meta = file.metadata
    starts = [sum(meta.row_group(g).num_rows for g in range(i)) for i in groups]
    total = sum(meta.row_group(g).num_rows for g in groups) or 1
    done = 0
    for group, start in zip(groups, starts, strict=True):
        row = start
        for batch in file.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group], columns=list(columns)):
            first = row
            row += batch.num_rows
            done += batch.num_rows
            # Parquet has no lines: rejects carry the 1-based row number in the file instead.
            yield cast_rows(batch, types, lambda i, first=first: first + i + 1, rejects), done / total


def cast_rows(batch: pa.RecordBatch, types: Mapping[str, pa.DataType], line_of: Callable[[int], int],
              rejects: RejectsFile) -> pa.RecordBatch:
    """Cast columns to their target types; rows with a value that does not convert go to rejects."""
    bad: dict[int, str] = {}  # row -> why
    arrays = []
    for name in batch.schema.names:
        column, target = batch.column(name), types.get(name)
        if target is None or column.type == target:
            arrays.append(column)
            continue
        try:
            arrays.append(pc.cast(column, target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            arrays.append(_cast_valid(column, target, name, bad))
    out = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
    if not bad:
        return out
    for row, reason in sorted(bad.items()):
        values = batch.slice(row, 1).to_pylist()[0].values()
        rejects.add(line_of(row), reason, ",".join("" if v is None else str(v) for v in values))
    return out.filter(pa.array([i not in bad for i in range(out.num_rows)]))


def _cast_valid(column: pa.Array, target: pa.DataType, name: str, bad: dict[int, str]) -> pa.Array:
    """Slow path, only for a batch that holds a bad value: cast value by value, nulls in place of bad ones."""
    values = []
    for i, value in enumerate(column.to_pylist()):
        try:
            values.append(None if value is None else pa.scalar(value, column.type).cast(target).as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            values.append(None)
            bad.setdefault(i, f"column {name}: {value!r} is not a valid {target}")
    return pa.array(values, type=target)
