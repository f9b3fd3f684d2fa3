"""Rejects carry the line of the file where their row starts, through a real ingestion (arq workers on Redis,
pyarrow staging, DuckDB), whatever sits above the row: pyarrow numbers rows, skipping blank lines without a
number and reading a quoted line break as part of its row, so each of those used to put every later reject
one line early. Both kinds of reject (a row with the wrong number of values, a value that does not convert),
both ways of reading (byte ranges, and the whole file when a value holds a line break), and the lines named
by a partition that fails.
"""

from __future__ import annotations

import pytest

from tests.integration.test_ingestion_hostile_files import (
    PRINTS_UNRAISABLE,
    container,  # noqa: F401 (the fixture)
    ids,
    ingest,
    table_rows,
)
from tests.support.hostile_files import FIFTY, QUOTE_62, Case, csv_file, schema

pytestmark = pytest.mark.integration
INT_A = schema(a="int64")  # makes 'z' in column a a value that does not convert

# Ragged rows (the wrong number of values) and cast rejects (a 'z' or 'x' where an integer goes).
LINES = [
    Case("blank lines before and between bad rows",
         csv_file(b"a,b\n\n1,x\n\n\n3\n4,y\n\nz,w\n5,v\n", cleaning=INT_A), "", 5, (6, 9)),
    Case("blank lines before a ragged row", csv_file(b"a,b\n1,x\n\n\n3\n4,y\n"), "expected 2 columns", 3, (5,)),
    Case("blank lines before a value that does not convert", csv_file(b"a,b\n1,x\n\n\nz,y\n", cleaning=INT_A),
         "not a valid int64", 2, (5,)),
    Case("quoted line breaks before bad rows",
         csv_file(b'a,b\n1,"two\nlines"\n3\n4,"x\r\ny"\nz,w\n5,v\n', cleaning=INT_A), "", 5, (4, 7)),
    Case("an empty line inside quotes, blank lines outside",
         csv_file(b'a,b\n1,"p\n\nq"\n\n2\n3,"\n"\nz,1\n', cleaning=INT_A), "", 4, (6, 9)),
    Case("a line break in quotes before a ragged row on line 54",
         csv_file(b"id,name\n" + FIFTY + b'1,"two\nlines"\n2,x,y\n'), "expected 2 columns", 52, (54,)),
    Case("CRLF line ends and blank lines",
         csv_file(b"a,b\r\n1,x\r\n\r\n3\r\n\r\nz,w\r\n5,v\r\n", cleaning=INT_A), "", 4, (4, 6)),
    Case("CRLF line ends and a quoted CRLF", csv_file(b'a,b\r\n1,"x\r\ny"\r\n3\r\nz,w\r\n', cleaning=INT_A),
         "", 3, (4, 5)),
    # pyarrow's skip_rows counts a blank line above the header, which then loaded as a row.
    Case("a blank line above the header", csv_file(b"\na,b\n1,x\n\nz,w\n", cleaning=INT_A), "not a valid", 2, (5,)),
    # Byte ranges: the second and third partitions start past blank lines, and hold some of their own.
    Case("a file cut in partitions, with blank lines",
         csv_file(b"id,name\n" + FIFTY + b"\n\n" + FIFTY + b"\n7\n\nx,n\n" + FIFTY, partitions=3,
                  cleaning=schema(id="int64")), "", 152, (105, 107)),
    Case("a file cut in partitions, blank lines past the first block",
         csv_file(b"id,name\n" + FIFTY * 4000 + b"\n\n\n1\n" + FIFTY * 4000 + b"\n\nx,n\n", partitions=2,
                  cleaning=schema(id="int64")), "", 400_002, (200_005, 400_008)),
]

# A ragged row that is not UTF-8 either: the piece is read again through Latin-1.
LINES_NOT_UTF8 = [
    Case("after a quoted line break and a blank line", csv_file(b'a,b\n1,"p\nq"\n\n2,\xff,3\n4,v\n'),
         "expected 2 columns", 3, (5,)),
]

FAILED = [
    Case("a quote never closed, after blank lines", csv_file(b'a,b\n\n1,2\n\n3,"never closed\n4,5\n6,7\n'),
         "quote opened on line 5 is never"),
    Case("a quote never closed in a middle column, after a blank line and a quoted line break",
         csv_file(QUOTE_62.replace(b"10,n10,", b'\n10,"n\n10",')), "quote opened on line 64 is never closed"),
    Case("a row longer than 1 MiB, after blank lines",
         csv_file(b"a,b\n\n1,x\n\n2," + b"y" * (3 << 20) + b"\n3,z\n"), "row on line 5 is longer than 1 MiB"),
]


@pytest.mark.parametrize("case", [*LINES, *(pytest.param(c, marks=PRINTS_UNRAISABLE) for c in LINES_NOT_UTF8)],
                         ids=ids(LINES) + ids(LINES_NOT_UTF8))
async def test_each_reject_names_the_line_its_row_starts_on(container, tmp_path, case: Case) -> None:  # noqa: F811
    outcome = await ingest(container, case.build(tmp_path))
    assert outcome.kind == "completed", outcome.message
    assert outcome.report["rows_read"] == case.rows
    assert sorted(int(r["line"]) for r in outcome.rejects) == list(case.rejected), outcome.rejects
    assert all(case.hint in r["reason"] for r in outcome.rejects), outcome.rejects
    assert await table_rows(container) == case.rows - len(case.rejected)


@pytest.mark.parametrize("case", FAILED, ids=ids(FAILED))
async def test_a_failing_partition_names_the_line_of_its_row(container, tmp_path, case: Case) -> None:  # noqa: F811
    outcome = await ingest(container, case.build(tmp_path))
    assert outcome.kind == "failed"
    assert case.hint in outcome.message, outcome.message
