"""The rows of a CSV piece that span several lines, and how many line breaks each holds (see reject_lines.py).

Only pyarrow knows where its rows end (a quote opens a value only at a value's start, a quote inside a value
is kept as it is), so the piece is parsed once more as the reading parse did, but with blank lines kept as
rows, every value as bytes and the text read through Latin-1 (every byte is a character, none fails), to
number every record from 1. A line break inside a value (LF, CRLF or a CR alone) or inside a bad row's text
puts the rows after it a line further.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

Ints = npt.NDArray[np.int64]
BLOCK_BYTES = 2 << 20  # the reading parse's block through Latin-1 (larger blocks parse slower: cache misses)


def multiline_rows(stream: BinaryIO, columns: Sequence[str], newlines_in_values: bool) -> tuple[Ints, Ints]:
    """Numbers of the records spanning lines (ascending) and the line breaks inside each."""
    bad: list[int] = []  # numbers of the rows the handler got, in parse order (ascending)
    found: dict[int, int] = {}  # record number -> line breaks inside it

    def invalid(row: pacsv.InvalidRow) -> str:
        if row.number is not None:
            bisect.insort(bad, row.number)
            if breaks := _breaks_in(row.text):
                found[row.number] = breaks
        return "skip"

    read = pacsv.ReadOptions(column_names=list(columns), block_size=BLOCK_BYTES, use_threads=False,
                             encoding="latin-1")
    parse = pacsv.ParseOptions(invalid_row_handler=invalid, newlines_in_values=newlines_in_values,
                               ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(column_types={c: pa.binary() for c in columns})
    first = 1  # number of the next batch's first record
    try:
        for batch in pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert):
            end = _end(first, batch.num_rows, bad)
            breaks = _row_breaks(batch)
            if breaks is not None:
                numbers = _kept(first, end, bad)
                found.update(zip(numbers[breaks > 0].tolist(), breaks[breaks > 0].tolist(), strict=True))
            first = end
    except pa.ArrowInvalid:
        pass  # a row longer than a block: the rows from there on are taken as one line each
    ordered = sorted(found.items())
    return np.array([n for n, _ in ordered], np.int64), np.array([b for _, b in ordered], np.int64)


def _end(first: int, rows: int, bad: list[int]) -> int:
    """Where a batch's numbers end: its rows fill the numbers from `first` on that no bad row took. pyarrow
    parses ahead, so the handler has already had every bad row among them (and maybe later ones)."""
    end = first + rows
    while (grown := first + rows + _taken(bad, first, end)) != end:  # grows until the range holds `rows` others
        end = grown
    return end


def _kept(first: int, end: int, bad: list[int]) -> Ints:
    """The numbers from `first` to `end` that no bad row took: the batch's rows."""
    kept = np.ones(end - first, np.bool_)
    kept[np.asarray(bad[bisect.bisect_left(bad, first):bisect.bisect_left(bad, end)], np.int64) - first] = False
    return np.flatnonzero(kept).astype(np.int64) + first


def _taken(bad: list[int], first: int, end: int) -> int:
    return bisect.bisect_left(bad, end) - bisect.bisect_left(bad, first)


def _row_breaks(batch: pa.RecordBatch) -> Ints | None:
    """Line breaks inside each row's values; None when there is none at all (the common case, found cheaply)."""
    total: Ints | None = None
    for column in batch.columns:
        data = column.buffers()[2]
        if data is None or not _has_break(np.frombuffer(data, np.uint8)):
            continue
        count = pc.subtract(pc.add(pc.count_substring(column, "\n"), pc.count_substring(column, "\r")),
                            pc.count_substring(column, "\r\n"))
        values = pc.fill_null(count, 0).to_numpy().astype(np.int64)
        total = values if total is None else total + values
    return total


def _has_break(data: npt.NDArray[np.uint8]) -> bool:
    return bool((data == 10).any() or (data == 13).any())


def _breaks_in(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")
