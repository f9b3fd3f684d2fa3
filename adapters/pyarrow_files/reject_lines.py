"""The file line a rejected row starts on, from the number pyarrow gives it (see batches.py).

pyarrow numbers rows, not lines: a blank line is skipped without a number, and a quoted value with line
breaks makes one row of several lines, so each puts every later row a line further than its number says.
Neither shows while the file parses at full speed, so nothing is counted until a reject needs a line; then
the piece's bytes are scanned once, with numpy, for blank lines (and whether it holds a quote at all), and
only a piece with quotes is parsed once more, counting the line breaks inside each row (multiline_rows.py).
Rows are numbered from the stream's start as the reading parse numbers them: the header (when the stream
holds it) is row 1; records below are every row, blank lines included, numbered from 1 in the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from adapters.pyarrow_files.multiline_rows import multiline_rows

Ints = npt.NDArray[np.int64]
OpenRange = Callable[[], contextlib.AbstractContextManager[tuple[Any, int]]]  # the piece's bytes: stream, length
CHUNK = 8 << 20
_QUOTE, _LF, _CR = 34, 10, 13


@dataclass(frozen=True)
class _Layout:
    skipped: Ints  # blank records after the header rows, as numbers after them, minus their index (see _nth_kept)
    multiline: Ints  # records spanning lines, ascending
    breaks_through: Ints  # line breaks inside the records of `multiline`, summed up to each


class LineMap:
    """Row number (as pyarrow numbers the rows of one piece) -> line of the file; built at the first call."""

    def __init__(self, open_range: OpenRange, first_line: int, skip: int, columns: Sequence[str],
                 newlines_in_values: bool) -> None:
        self._open, self._first_line, self._skip = open_range, first_line, skip
        self._columns, self._newlines_in_values = list(columns), newlines_in_values
        self._layout: _Layout | None = None

    def line(self, number: int | None) -> int | None:
        if number is None:  # pyarrow did not number the row
            return None
        layout = self._layout or self._measure()
        record = number if number <= self._skip else self._skip + _nth_kept(number - self._skip, layout.skipped)
        before = int(np.searchsorted(layout.multiline, record))  # rows above it over several lines
        extra = int(layout.breaks_through[before - 1]) if before else 0
        return self._first_line - 1 + record + extra

    def _measure(self) -> _Layout:
        with self._open() as (stream, _):
            empty, quoted = _empty_lines(stream)
        multiline, breaks = np.zeros(0, np.int64), np.zeros(0, np.int64)
        if quoted:  # without a quote every record is one line
            with self._open() as (stream, _):
                multiline, breaks = multiline_rows(stream, self._columns, self._newlines_in_values)
        through = np.cumsum(breaks)
        blank = _records_starting_on(empty, multiline, breaks, through)
        after = blank[blank > self._skip] - self._skip
        self._layout = _Layout(after - np.arange(len(after)), multiline, through)
        return self._layout


class ReadLines:
    """The lines of one read of a piece: its rows by number, or by their order among the rows it parsed after the
    `skip` rows through the header."""

    def __init__(self, lines: LineMap, skip: int) -> None:
        self.lines, self.skip = lines, skip
        self.ragged: list[int] = []  # numbers of the rows the invalid-row handler took out of this read
        self._sorted: tuple[int, Ints] = (0, np.zeros(0, np.int64))

    def of_row(self, number: int | None) -> int | None:
        return self.lines.line(number)

    def number_of_parsed(self, index: int) -> int:
        """The number of the parsed row at `index` (from 0), stepping over the rows the handler took."""
        if self._sorted[0] != len(self.ragged):
            ragged = np.unique(np.asarray(self.ragged, np.int64)) - self.skip
            self._sorted = (len(self.ragged), ragged - np.arange(len(ragged)))
        return self.skip + _nth_kept(index + 1, self._sorted[1])

    def of_parsed(self, index: int) -> int:
        return self.lines.line(self.number_of_parsed(index)) or 0


def _nth_kept(nth: int, gaps: Ints) -> int:
    """The number of the nth kept row of 1, 2, ... when the numbers r_0 < r_1 < ... were taken out; `gaps`
    holds r_i - i, how many kept rows come before r_i plus one, which grows with i, so a search finds them."""
    return nth + int(np.searchsorted(gaps, nth, side="right"))


def _records_starting_on(empty: Ints, multiline: Ints, breaks: Ints, through: Ints) -> Ints:
    """The records that start on the empty lines (blank records); empty lines inside a quoted value start none."""
    if not len(multiline):
        return empty
    starts = multiline + through - breaks  # the line each record over several lines starts on
    holder = np.searchsorted(starts, empty, side="right") - 1  # the last of them starting at or above each line
    held = np.maximum(holder, 0)
    inside = (holder >= 0) & (empty <= starts[held] + breaks[held])
    return np.asarray(empty - np.where(holder >= 0, through[held], 0), np.int64)[~inside]


def _empty_lines(stream: BinaryIO) -> tuple[Ints, bool]:
    """The empty lines of a stream (numbered from 1) and whether it holds a quote; a line ends at LF, CRLF or
    a CR alone, as pyarrow ends rows. A CR closing a chunk waits for the next one, which may start with its LF."""
    found: list[Ints] = []
    lines, at_line_start, carry, quoted = 0, True, b"", False
    while True:
        chunk = stream.read(CHUNK)
        data, carry = carry + chunk, b""
        if chunk and data.endswith(b"\r"):
            data, carry = data[:-1], b"\r"
        if not data and not carry:
            break
        array = np.frombuffer(data, np.uint8)
        quoted = quoted or bool((array == _QUOTE).any())
        ends, empty = _line_ends(array, at_line_start)
        found.append(lines + 1 + np.flatnonzero(empty))
        lines += len(ends)
        at_line_start = bool(ends[-1] == len(array) - 1) if len(ends) else at_line_start and not len(array)
    return (np.concatenate(found) if found else np.zeros(0, np.int64)), quoted


def _line_ends(array: npt.NDArray[np.uint8], at_line_start: bool) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Where each line of a chunk ends (its terminator's last byte), and which of those lines are empty."""
    lf, cr = array == _LF, array == _CR
    lone_cr = cr.copy()
    lone_cr[:-1] &= ~lf[1:]
    ends = np.flatnonzero(lf | lone_cr)
    starts = np.concatenate(([0 if at_line_start else -1], ends[:-1] + 1)) if len(ends) else ends
    after_cr = lf[ends] & (ends > 0) & cr[np.maximum(ends - 1, 0)]  # the LF of a CRLF: the line ended at the CR
    return ends, (ends - after_cr) == starts
