"""A quote that is never closed: pyarrow reads it as one value running to the end of the data, line breaks
and all, without a word. The lines it swallows would be lost as rows, so the partition fails instead,
naming the line where the quote opened.

pyarrow shows it in one of three ways, each caught here: the swallowed text lands in the last column of a
row with the right number of values (`check_last_value`); in a row with the wrong number of values, which
goes to the invalid-row handler (`swallowed_lines`: its text ends inside a quote and holds a line break);
or it runs past a block, which pyarrow calls a row straddling two blocks (`row_too_long`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from adapters.pyarrow_files.casts import value_text
from adapters.pyarrow_files.locations import RemoteConfig, open_binary, size
from domain.types.errors import InvalidSpec

_BREAK = re.compile(r"\r\n|\r|\n")
_QUOTE = re.compile('"')


@dataclass(frozen=True)
class UnclosedQuote:
    line: int | None  # where the quote opened; None when pyarrow did not number the row
    swallowed: int  # lines read into the quoted value after that one


def swallowed_lines(text: str, line: int | None) -> UnclosedQuote | None:
    """A bad row's text that ends inside a quote opened before a line break: it swallowed the lines after.

    A ragged row on one line (the quote opened on the file's last line, say) is no such row: it is rejected."""
    if '"' not in text:
        return None
    quotes = [match.start() for match in _QUOTE.finditer(text)]
    if len(quotes) % 2 == 0:  # every quote was closed (a doubled quote inside a value counts twice)
        return None
    opened = len(quotes) - 1
    while opened >= 2 and quotes[opened - 1] == quotes[opened] - 1:  # `""` inside the open value: look before it
        opened -= 2
    swallowed = len(_BREAK.findall(text.rstrip("\r\n"), quotes[opened]))
    if swallowed == 0:
        return None
    return UnclosedQuote(None if line is None else line + len(_BREAK.findall(text, 0, quotes[opened])), swallowed)


def unclosed(uri: str, quote: UnclosedQuote) -> InvalidSpec:
    where = "a line" if quote.line is None else f"line {quote.line}"
    return InvalidSpec(f"{uri}: the quote opened on {where} is never closed, so the {quote.swallowed} line(s) after "
                       "it would load as one value; close it (a quote inside a quoted value is written twice)",
                       {"field": "sources", "source": uri, "line": quote.line})


def check_last_value(uri: str, last: pa.RecordBatch, line: Callable[[], int], gcs: RemoteConfig | None) -> None:
    """The file's last row has the right number of values, but its last value may have swallowed the lines
    after it: then that value holds a line break and the file does not end with the closing quote. Its `line`
    is looked up only then (that may take reading the file again)."""
    value = value_text(last.column(last.num_columns - 1)[last.num_rows - 1])
    if "\n" not in value and "\r" not in value:
        return
    with open_binary(uri, gcs) as handle:
        handle.seek(max(size(uri, gcs) - 64, 0))
        if handle.read().rstrip().endswith(b'"'):
            return
    raise unclosed(uri, UnclosedQuote(line(), len(value.rstrip().splitlines()) - 1))


def row_too_long(uri: str, line: int, block_bytes: int) -> InvalidSpec:
    """pyarrow found no end to the row starting on `line` within a block: a long value, or a quote never closed
    with more than a block of the file after it (only reading the rest of the file could tell them apart)."""
    return InvalidSpec(f"{uri}: the row on line {line} is longer than {block_bytes >> 20} MiB, the most ingestion "
                       "reads at once: if a quote opened on that line is never closed, close it (a quote inside a "
                       "quoted value is written twice); else shorten its values, or convert the file to Parquet",
                       {"field": "sources", "source": uri, "line": line})
