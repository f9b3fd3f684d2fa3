"""Record batches of one piece (a CSV byte range or Parquet row groups), with bad rows sent to rejects.

CSV is parsed with the planned column types (fast path). pyarrow cannot skip a row whose value
does not convert, so on the first conversion error the caller re-reads the partition in `strict`
mode: every column as bytes, then cast batch by batch, rejecting exactly the rows that fail (casts.py).
A row with the wrong number of values goes to rejects through pyarrow's invalid-row handler, unless it
is not UTF-8 either: then strict mode reads the piece once more, through Latin-1 (see `_csv`). A quote
never closed fails the partition, naming its line, wherever pyarrow shows it (unclosed_quotes.py).
pyarrow numbers rows, not lines: the line a reject names is looked up only once there is one (reject_lines.py).
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from adapters.pyarrow_files.casts import cast_rows
from adapters.pyarrow_files.locations import RemoteConfig, is_remote, local_path, open_binary, size
from adapters.pyarrow_files.ragged_rows import (
    UNREADABLE_RAGGED_ROW,
    Handed,
    file_bytes,
    ragged_row_handler,
    send_waiting,
    unclosed_quote,
)
from adapters.pyarrow_files.reject_lines import LineMap, ReadLines
from adapters.pyarrow_files.rejects import RejectsFile
from adapters.pyarrow_files.unclosed_quotes import check_last_value, row_too_long
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
    handed = Handed()
    skip = _rows_through_header(piece, gcs) if piece.start == 0 else 0  # a range from 0 still holds the header
    # Where rejected rows lie: worked out (by reading the piece again) only when one needs its line.
    lines = LineMap(lambda: _byte_range(piece.uri, piece.start, piece.end, gcs), 1 if skip else piece.first_line,
                    skip, columns, newlines_in_values=piece.end < 0)
    try:
        yield from _csv_read(piece, columns, types, rejects, strict, gcs, handed, ReadLines(lines, skip), latin1=False)
    except pa.ArrowInvalid as exc:
        if not strict or not UNREADABLE_RAGGED_ROW.search(str(exc)):
            raise  # not strict: the caller reads the partition again in strict mode, which comes here
        # Only a piece with such a row pays for a second read, through a Latin-1 view of its bytes: every byte is
        # a character there, so the handler gets every row; the batches get the file's bytes back before the cast.
        yield from _csv_read(piece, columns, types, rejects, strict, gcs, handed, ReadLines(lines, skip), latin1=True)


def _rows_through_header(piece: Piece, gcs: RemoteConfig | None) -> int:
    """pyarrow's skip_rows counts the blank lines above the header, which the header's read (describe.py) steps
    over: skip those too, or the header loads as a row."""
    with _byte_range(piece.uri, 0, piece.end, gcs) as (stream, _):
        head = stream.read(64 << 10)
    blank = head[:len(head) - len(head.lstrip(b"\r\n"))]
    return 1 + int(blank.count(b"\n") + blank.count(b"\r") - blank.count(b"\r\n"))


def _csv_read(piece: Piece, columns: Sequence[str], types: Mapping[str, pa.DataType], rejects: RejectsFile,
              strict: bool, gcs: RemoteConfig | None, handed: Handed, lines: ReadLines,
              latin1: bool) -> Iterator[tuple[pa.RecordBatch, float]]:
    block = 2 * BLOCK_BYTES if latin1 else BLOCK_BYTES  # through Latin-1 a byte past ASCII takes two
    read = pacsv.ReadOptions(column_names=list(columns), skip_rows=lines.skip, block_size=block, use_threads=False,
                             encoding="latin-1" if latin1 else "utf8")
    parse = pacsv.ParseOptions(invalid_row_handler=ragged_row_handler(lines.ragged, handed, latin1),
                               newlines_in_values=piece.end < 0)
    # Strict mode reads bytes, so a value that is not UTF-8 rejects its row rather than failing the partition.
    parse_types = {c: pa.binary() for c in columns} if strict else dict(types)
    convert = pacsv.ConvertOptions(column_types=parse_types, strings_can_be_null=True)
    floats = [] if strict else [c for c, t in types.items() if pa.types.is_floating(t)]
    emitted, last = 0, None
    with _byte_range(piece.uri, piece.start, piece.end, gcs) as (stream, length):
        try:
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            for blocks, batch in enumerate(reader, start=1):
                if handed.unclosed:  # noted by the handler while parsing: nothing more is passed on
                    raise unclosed_quote(piece.uri, handed.unclosed, lines.of_row)
                send_waiting(handed, rejects, lines.of_row)
                first = emitted
                emitted += batch.num_rows
                last = batch if batch.num_rows else last  # for the quote check: Latin-1 keeps the line breaks
                if handed.rows > first:  # a read again from the start: drop the rows the first one passed on
                    done = min(handed.rows - first, batch.num_rows)
                    batch, first = batch.slice(done), first + done
                batch = file_bytes(batch) if latin1 else batch
                if strict:
                    batch = cast_rows(batch, types, lambda i, first=first: lines.of_parsed(first + i), rejects)
                elif any(pc.any(pc.is_inf(batch.column(c))).as_py() for c in floats):
                    # A numeral past the double range (400 digits, 1e400) parses as infinity: only the text,
                    # which strict mode keeps, tells it from a written 'inf'.
                    raise pa.ArrowInvalid("a number out of the double range was read as infinity")
                handed.rows = max(handed.rows, emitted)
                # Each batch is one parsed block of about `block` bytes: progress without a seekable stream.
                yield batch, min(blocks * block / max(length, 1), 1.0)
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc):  # pyarrow's words for a row longer than a block
                raise
            # Every row before it was passed on: it is the next one.
            raise row_too_long(piece.uri, lines.of_parsed(emitted), BLOCK_BYTES) from exc
    if handed.unclosed:
        raise unclosed_quote(piece.uri, handed.unclosed, lines.of_row)
    send_waiting(handed, rejects, lines.of_row)
    # A ragged row after the last good one ends the file: that row's quotes, if any, were closed before it.
    last_row = lines.number_of_parsed(emitted - 1)  # a row number: cheap, unlike its line
    if last is not None and piece.end < 0 and not any(bad > last_row for bad in lines.ragged):
        check_last_value(piece.uri, last, functools.partial(lines.of_parsed, emitted - 1), gcs)


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
