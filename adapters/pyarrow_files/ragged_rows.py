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
from adapters.pyarrow_files.unclosed_quotes import UnclosedQuote, swallowed_lines

# pyarrow decodes a bad row's text as UTF-8 before it calls the handler that would reject the row: a ragged row
# that is not UTF-8 never reaches it, and the parse ends with this error (the decode error is only printed).
UNREADABLE_RAGGED_ROW = re.compile(r"CSV parse error: (Row #\d+: )?Expected \d+ columns, got \d+")


@dataclass
class Handed:
    """What a read of a piece has handed on, so that reading it again from the start repeats none of it."""

    rows: int = 0  # parsed rows passed on in batches (the cast's rejects among them)
    ragged: set[int] = field(default_factory=set)  # numbers of the rows the invalid-row handler rejected
    unclosed: UnclosedQuote | None = None  # the first row that swallowed the lines after it: the read must fail


def ragged_row_handler(base: int, skipped: list[int], rejects: RejectsFile, handed: Handed,
                       latin1: bool) -> Callable[[pacsv.InvalidRow], str]:
    """pyarrow's handler for a row with too many or too few values: it goes to rejects and the parse goes on."""

    def invalid(row: pacsv.InvalidRow) -> str:
        line = None if row.number is None else base + row.number
        if (quote := swallowed_lines(row.text, line)) is not None:
            handed.unclosed = handed.unclosed or quote
            return "skip"
        skipped.append(line or 0)
        if row.number not in handed.ragged:  # a second read meets again the rows the first one rejected
            handed.ragged.add(row.number)
            text = row.text.encode("latin-1").decode(errors="replace") if latin1 else row.text
            rejects.add(line, f"expected {row.expected_columns} columns, found {row.actual_columns}", text)
        return "skip"

    return invalid


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
