"""Rows with the wrong number of values, to rejects; and when they are not UTF-8 either (see batches.py `_csv`).

pyarrow hands a ragged row to the invalid-row handler only after decoding its text as UTF-8; one that
is not UTF-8 never reaches the handler and ends the parse instead. Such a piece is read once more
through Latin-1, where every byte is a character: the handler then gets every row, and each batch gets
the file's own bytes back before the cast (which rejects a value that is not UTF-8 on its own).

A row whose quote is never closed has swallowed the lines after it: it is no reject, the partition fails
(see unclosed_quotes.py). The handler only notes it, because pyarrow ignores an exception raised there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from adapters.pyarrow_files.rejects import RejectsFile
from adapters.pyarrow_files.unclosed_quotes import UnclosedQuote, swallowed_lines, unclosed
from domain.types.errors import InvalidSpec

# pyarrow decodes a bad row's text as UTF-8 before it calls the handler that would reject the row: a ragged row
# that is not UTF-8 never reaches it, and the parse ends with this error (the decode error is only printed).
UNREADABLE_RAGGED_ROW = re.compile(r"CSV parse error: (Row #\d+: )?Expected \d+ columns, got \d+")


@dataclass
class Handed:
    """What a read of a piece has handed on, so that reading it again from the start repeats none of it."""

    rows: int = 0  # parsed rows passed on in batches (the cast's rejects among them)
    ragged: set[int] = field(default_factory=set)  # numbers of the rows the invalid-row handler rejected
    # Rejected rows (number, reason, text) waiting for their line, which the handler cannot look up: that may
    # take reading the piece again (reject_lines.py), not a thing to do inside pyarrow's parse.
    waiting: list[tuple[int | None, str, str]] = field(default_factory=list)
    unclosed: tuple[int | None, str] | None = None  # the first row that swallowed the lines after it: number, text


def ragged_row_handler(ragged: list[int], handed: Handed, latin1: bool) -> Callable[[pacsv.InvalidRow], str]:
    """pyarrow's handler for a row with too many or too few values: it goes to rejects and the parse goes on."""

    def invalid(row: pacsv.InvalidRow) -> str:
        if swallowed_lines(row.text, None) is not None:
            handed.unclosed = handed.unclosed or (row.number, row.text)
            return "skip"
        ragged.append(row.number or 0)
        if row.number not in handed.ragged:  # a second read meets again the rows the first one rejected
            handed.ragged.add(row.number)
            text = row.text.encode("latin-1").decode(errors="replace") if latin1 else row.text
            handed.waiting.append((row.number, f"expected {row.expected_columns} columns, found "
                                                f"{row.actual_columns}", text))
        return "skip"

    return invalid


def send_waiting(handed: Handed, rejects: RejectsFile, line_of: Callable[[int | None], int | None]) -> None:
    """The rows the handler rejected so far, to the rejects file with their lines."""
    for number, reason, text in handed.waiting:
        rejects.add(line_of(number), reason, text)
    handed.waiting.clear()


def unclosed_quote(uri: str, row: tuple[int | None, str],
                   line_of: Callable[[int | None], int | None]) -> InvalidSpec:
    """The error for the row (number, text) the handler found swallowing the lines after it."""
    number, text = row
    line = line_of(number)
    return unclosed(uri, swallowed_lines(text, line) or UnclosedQuote(line, 0))  # never None: it swallowed lines


def file_bytes(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch read through the Latin-1 view, as the file's own bytes (Latin-1 made each byte one character)."""
    return pa.RecordBatch.from_arrays([_latin1_encoded(c) for c in batch.columns], names=batch.schema.names)


def _latin1_encoded(column: pa.Array) -> pa.Array:
    text = column.cast(pa.string())  # valid UTF-8: the view wrote it
    wide = pc.fill_null(pc.invert(pc.string_is_ascii(text)), False)  # only values with a byte past ASCII differ
    if not pc.any(wide).as_py():
        return column
    original = [value.encode("latin-1") for value in pc.filter(text, wide).to_pylist()]
    return pc.replace_with_mask(column, wide, pa.array(original, pa.binary()))
