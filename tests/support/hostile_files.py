"""The hostile source files tests/integration/test_ingestion_hostile_files.py ingests, each with its outcome.

A case writes its file(s) into a directory and returns the ingestion to submit. What must happen:
`REFUSED` at submit with an InvalidSpec naming `hint`; `FAILED` as a job whose cause names `hint`;
`LOADED` with exactly the rows on `rejected` lines (CSV lines, or Parquet row numbers) in the rejects
files, each reason naming `hint`; `FINE` loaded whole. `rows` is how many data rows the file holds.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from domain.types.ingestion import Cleaning, Dedupe, IngestionSpec, SourceFormat

Build = Callable[[Path], IngestionSpec]
MIB_OF_ROWS = b"".join(b"%d,n%d\n" % (i, i) for i in range(100_000))  # past the 1 MiB the submit samples
MIB_OF_DOUBLES = b"".join(b"%d,%d.5\n" % (i, i) for i in range(100_000))


class Case(NamedTuple):
    label: str
    build: Build
    hint: str = ""
    rows: int = 0
    rejected: tuple[int, ...] = ()


def csv_file(data: bytes, name: str = "f.csv", **spec: Any) -> Build:
    def build(folder: Path) -> IngestionSpec:
        (folder / name).write_bytes(data)
        return IngestionSpec((str(folder / name),), "hostile", **{"max_reject_ratio": 1.0, **spec})
    return build


def parquet(columns: dict[str, Any] | pa.Table, **spec: Any) -> Build:
    def build(folder: Path) -> IngestionSpec:
        pq.write_table(pa.table(columns) if isinstance(columns, dict) else columns, folder / "f.parquet")
        return IngestionSpec((str(folder / "f.parquet"),), "hostile", **{"max_reject_ratio": 1.0, **spec})
    return build


def damaged_parquet(cut: Callable[[bytes], bytes], name: str = "f.parquet") -> Build:
    def build(folder: Path) -> IngestionSpec:
        pq.write_table(pa.table({"a": list(range(1000))}), folder / name)
        (folder / name).write_bytes(cut((folder / name).read_bytes()))
        return IngestionSpec((str(folder / name),), "hostile")
    return build


def source(path: str, **spec: Any) -> Build:
    def build(folder: Path) -> IngestionSpec:
        (folder / "empty").mkdir()
        return IngestionSpec((str(folder / path),), "hostile", **spec)
    return build


def schema(**types: str) -> Cleaning:
    return Cleaning(schema=types)


NUMBERS = b"".join(b"%d,%d.5\n" % (i, i) for i in range(100))
FAR_US = pa.array([253402300800 * 10**6 * 2, 0], pa.timestamp("us"))  # year 18029: Python's datetime stops at 9999
DUPLICATES = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])

REFUSED = [
    Case("two unnamed columns", csv_file(b"a,,\n1,2,3\n"), "more than once"),
    Case("binary garbage", csv_file(bytes(range(256)) * 16), "control character"),
    Case("header not UTF-8", csv_file(b"id,n\xffame\n1,x\n"), "not UTF-8"),
    Case("UTF-16 text", csv_file("id,name\n1,x\n".encode("utf-16")), "not UTF-8"),
    Case("duplicate names", csv_file(b"a,a,b\n1,2,3\n"), "more than once"),
    Case("names differing in case only", csv_file(b"id,ID\n1,2\n"), "more than once"),
    Case("a line break in a name", csv_file(b'"a\nb",c\n1,2\n'), "control character"),
    Case("a NUL in a name", csv_file(b"a\x00b,c\n1,2\n"), "control character"),
    Case("empty file", csv_file(b""), "f.csv is empty: no header line"),
    Case("empty file, format csv", csv_file(b"", format=SourceFormat.CSV), "f.csv is empty: no header line"),
    Case("empty file with no suffix", csv_file(b"", "upload"), "upload is empty: no header line"),
    Case("empty parquet file", csv_file(b"", "f.parquet"), "f.parquet is empty (0 bytes)"),
    Case("blank lines only", csv_file(b"\n\n\n"), "holds only blank lines: no header line"),
    Case("truncated parquet", damaged_parquet(lambda data: data[: len(data) // 2]), "not readable as auto"),
    Case("CSV renamed .parquet", csv_file(b"a,b\n1,2\n", "f.parquet"), "not readable as auto"),
    Case("parquet with duplicate columns", parquet(DUPLICATES), "more than once"),
    # The warehouse names an empty column C and its position from 0: here C1, which the first column is.
    Case("an unnamed column named as another", csv_file(b"C1,,amount\n1,a,2.5\n"), "column 2 has no name"),
    Case("an unnamed column named as another but for case", csv_file(b",a,c0\n1,2,3\n"), "column 1 has no name"),
    Case("glob matching nothing", source("nothing-*.csv"), "no file matches"),
    Case("empty directory", source("empty"), "no file matches"),
    Case("file name past the system's limit", source("x" * 300 + ".csv"), "cannot be read"),
    Case("dedupe keys naming a missing column", csv_file(b"a,b\n1,2\n", keys=("zz",), cleaning=Cleaning(Dedupe.KEYS)),
         "no column(s) zz"),
    Case("schema naming a missing column", csv_file(b"a,b\n1,2\n", cleaning=schema(zz="int64")), "no column(s) zz"),
]

LOADED = [
    Case("a value not UTF-8", csv_file(b"id,name\n1,ok\n2,\xff\xfe\n3,fine\n"), "not UTF-8", 3, (3,)),
    Case("a value not UTF-8 past the sample", csv_file(b"id,name\n" + MIB_OF_ROWS + b"7,caf\xe9\n"), "not UTF-8",
         100_001, (100_002,)),
    Case("a 5000-digit integer", csv_file(b"id,v\n" + NUMBERS.replace(b".5", b"") + b"9," + b"9" * 5000 + b"\n"),
         "too large for a double", 101, (102,)),
    Case("a 5000-digit integer, int64 by schema",
         csv_file(b"id,v\n1,2\n2," + b"9" * 5000 + b"\n", cleaning=schema(v="int64")), "not a valid int64", 2, (3,)),
    Case("a 400-digit integer among doubles", csv_file(b"id,v\n" + NUMBERS + b"9," + b"9" * 400 + b"\n"),
         "too large for a double", 101, (102,)),
    Case("1e400 and 400 digits past the sample, 'inf' kept",
         csv_file(b"id,v\n" + MIB_OF_DOUBLES + b"1,1e400\n2," + b"9" * 400 + b"\n3,inf\n"),
         "too large for a double", 100_003, (100_002, 100_003)),
    Case("too many and too few columns", csv_file(b"a,b\n1,2\n3\n4,5,6\n7,8\n"), "expected 2 columns", 4, (3, 4)),
    Case("a quote opened on the last line, in a middle column", csv_file(b'a,b,c\n1,2,3\n4,"5,6\n'),
         "expected 3 columns", 2, (3,)),
    Case("text the schema's type cannot take", csv_file(b"id,v\n1,a\n2,3\n", cleaning=schema(v="int64")),
         "not a valid int64", 2, (2,)),
    Case("parquet text the schema's type cannot take", parquet({"v": ["1", "x", "3"]}, cleaning=schema(v="int64")),
         "not a valid int64", 3, (2,)),
    Case("parquet NaN and inf cast to int64", parquet({"f": [float("nan"), 1.0, float("inf")]},
                                                      cleaning=schema(f="int64")), "not a valid int64", 3, (1, 3)),
    Case("parquet timestamp past year 9999 beside a bad value", parquet({"ts": FAR_US, "v": ["x", "1"]},
                                                                        cleaning=schema(v="int64")),
         "not a valid int64", 2, (1,)),
    Case("parquet timestamp in year 300000 cast to timestamp",
         parquet({"ts": pa.array([300_000 * 365 * 86400, 0], pa.timestamp("s"))}, cleaning=schema(ts="timestamp")),
         "not a valid timestamp", 2, (1,)),
]

# Ragged rows that are not UTF-8 either: pyarrow cannot hand their text to the handler that rejects ragged rows.
FIFTY = b"".join(b"%d,n%d\n" % (i, i) for i in range(50))
RAGGED_NOT_UTF8 = [
    Case("a small file", csv_file(b"a,b\n1,2\n3,\xff,4\n5,6\n"), "expected 2 columns", 3, (3,)),
    Case("a file cut in partitions", csv_file(b"id,name\n" + FIFTY + b"1,\xff\xfe,3,4,5,6\n" + FIFTY, partitions=3),
         "expected 2 columns, found 6", 101, (52,)),
    Case("the bad byte in quotes", csv_file(b"id,name\n" + FIFTY + b'1,"\xff",3\n' + FIFTY, partitions=3),
         "expected 2 columns", 101, (52,)),
    Case("the last line, no newline", csv_file(b"id,name\n" + FIFTY + b"1,\xff,3", partitions=3),
         "expected 2 columns", 51, (52,)),
    # A quoted newline keeps the file whole (one piece, values may span lines).
    Case("a file with a quoted newline", csv_file(b"id,name\n" + FIFTY + b"1,\xff,3\n" + FIFTY + b'1,"two\nlines"\n'
                                                 + FIFTY, partitions=3), "expected 2 columns", 152, (52,)),
    # The quote check took the last good row for the file's tail. The CR in quotes ends line 3 (as pyarrow ends
    # rows there): the bad row is on line 5.
    Case("the last line, after a line break in quotes", csv_file(b'id,name\n1,x\n2,"a\rb"\n3,\xff,3'),
         "expected 2 columns", 3, (5,)),
    # Past the first block the first read has passed rows on: read again, none is rejected or loaded twice.
    Case("past the first block, among other bad rows", csv_file(b"id,name\n1,x,y\n2,\xfe\n" + MIB_OF_ROWS
                                                                + b"1,\xff\xfe,3,4,5,6\n3,x,y\n4,\xfe\n" + MIB_OF_ROWS),
         "", 200_005, (2, 3, 100_004, 100_005, 100_006)),
]

FINE = [
    Case("CRLF line endings", csv_file(b"a,b\r\n1,x\r\n2,y\r\n"), rows=2),
    Case("mixed line endings", csv_file(b"a,b\r\n1,x\n2,y\r3,z\r\n4,w\n"), rows=4),
    Case("NUL bytes in values", csv_file(b"a,b\n1,x\x00y\n2,\x00\n3,z\n"), rows=3),
    Case("a UTF-8 byte order mark", csv_file(b"\xef\xbb\xbfa,b\n1,2\n"), rows=1),
    Case("header only", csv_file(b"a,b\n"), rows=0),
    Case("header and blank lines", csv_file(b"a,b\n\n\n"), rows=0),
    Case("a column with no value", csv_file(b"a,b\n1,\n2,\n"), rows=2),
    Case("a file named with spaces and unicode", csv_file(b"a,b\n1,2\n", "my file \u00e9 \u2603.csv"), rows=1),
    Case("names that are not identifiers", csv_file('a b,"c""d",\u00e9,1x,select\n1,2,3,4,5\n'.encode()), rows=1),
    Case("a 10000-character name", csv_file(b"a," + b"x" * 10_000 + b"\n1,2\n"), rows=1),
    Case("CSV nan and inf literals", csv_file(b"id,f\n1,nan\n2,inf\n3,-inf\n4,1.5\n5,NaN\n6,Infinity\n"), rows=6),
    Case("parquet nested types", parquet({"s": [{"x": 1}, {"x": 2}], "l": [[1], [2, 3]], "m": pa.array(
        [[("k", 1)], []], pa.map_(pa.string(), pa.int64()))}), rows=2),
    Case("parquet column of type null", parquet({"a": [1, 2], "z": pa.nulls(2)}), rows=2),
    Case("parquet decimal(38)", parquet({"d": pa.array([decimal.Decimal("1" * 37 + ".5"), decimal.Decimal("-0.5")],
                                                       pa.decimal128(38, 1))}), rows=2),
    Case("parquet timestamps with time zones", parquet({
        "paris": pa.array([dt.datetime(2020, 1, 1, tzinfo=dt.UTC)], pa.timestamp("ns", tz="Europe/Paris")),
        "offset": pa.array([dt.datetime(2020, 1, 1)], pa.timestamp("s", tz="+05:30"))}), rows=1),
    Case("parquet NaN and inf floats", parquet({"f": [float("nan"), float("inf"), -float("inf"), 1.0]}), rows=4),
    # pandas' to_csv() writes its index column unnamed: the warehouse names it.
    Case("an unnamed column (pandas' index)", csv_file(b",a,b\n0,1,2\n1,4,5\n"), rows=2),
    Case("parquet with an empty column name", parquet({"": [1], "b": [2]}), rows=1),
]

# A quote opened in a middle column and never closed: the row that swallows the rest has too few values.
FOUR = b"id,name,amount,flag\n" + b"".join(b"%d,n%d,%d.0,true\n" % (i, i, i) for i in range(100))
QUOTE_62 = FOUR.replace(b"60,n60", b'60,"n60')

FAILED = [
    Case("a quote never closed", csv_file(b'a,b\n1,2\n3,"never closed\n4,5\n6,7\n'), "quote opened on line 3 is never"),
    Case("a quote never closed, file cut in partitions",
         csv_file(b"a,b\n" + MIB_OF_ROWS + b'3,"never closed\n4,5\n', partitions=3), "line 100002 is never closed"),
    Case("a row longer than 1 MiB", csv_file(b"a,b\n1,x\n2," + b"y" * (3 << 20) + b"\n3,z\n"), "longer than 1 MiB"),
    Case("a quote never closed in a middle column", csv_file(QUOTE_62), "quote opened on line 62 is never closed"),
    Case("a quote never closed in a middle column, 2 partitions", csv_file(QUOTE_62, partitions=2),
         "quote opened on line 62 is never closed"),
    Case("a quote never closed in a middle column, after a value that does not convert",  # read again strictly
         csv_file(QUOTE_62.replace(b"5,n5,5.0", b"5,n5,x")), "quote opened on line 62 is never closed"),
    Case("a quote never closed in a middle column, more than 1 MiB after it",
         csv_file(b"a,b,c\n1,2,3\n1,\"x,y\n" + MIB_OF_ROWS * 3), "row on line 3 is longer than 1 MiB"),
    Case("a corrupt parquet page", damaged_parquet(lambda data: data[:8] + data[30:], "page.parquet"),
         "page.parquet"),
]

# The rows a quote never closed swallows are not UTF-8 either: staging reads the file again through Latin-1.
FAILED_NOT_UTF8 = [
    Case("a quote never closed in a middle column, lines after it not UTF-8",
         csv_file(QUOTE_62.replace(b"n70", b"n\xff70")), "quote opened on line 62 is never closed"),
    Case("a quote never closed in a middle column, 2 partitions, lines after it not UTF-8",
         csv_file(QUOTE_62.replace(b"n70", b"n\xff70"), partitions=2), "quote opened on line 62 is never closed"),
]
