"""The lines rejects name, straight from a piece's batches (real files, real pyarrow): every kind of line end,
wherever the piece's bytes are cut into the chunks its blank lines are counted in."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from adapters.pyarrow_files.batches import piece_batches
from adapters.pyarrow_files.rejects import RejectsFile
from domain.types.ingestion import SourceFormat
from domain.types.partitions import Piece

TYPES = {"a": pa.int64(), "b": pa.string()}  # 'z' in column a does not convert; a row of one value is ragged


def reject_lines(folder: Path, data: bytes, start: int = 0, first_line: int = 2) -> list[int]:
    """Read the file as staging does (again in strict mode after a value that does not convert)."""
    (folder / "f.csv").write_bytes(data)
    piece = Piece(str(folder / "f.csv"), SourceFormat.CSV, start, -1 if start == 0 else len(data), first_line)
    for strict in (False, True):
        rejects = RejectsFile(str(folder / "rejects.csv"), None)
        try:
            list(piece_batches(piece, list(TYPES), TYPES, rejects, strict, None))
        except pa.ArrowInvalid:
            rejects.discard()
            continue
        uri = rejects.close()
        return sorted(int(row["line"]) for row in csv.DictReader(Path(uri or "").open())) if uri else []
    raise AssertionError("strict mode failed")


FILES = [
    (b"a,b\n1,x\n\n\n3\n4,y\n\nz,w\n", [5, 8]),  # LF, blank lines
    (b"a,b\r\n1,x\r\n\r\n3\r\n\r\nz,w\r\n", [4, 6]),  # CRLF
    (b"a,b\r1,x\r\r3\rz,w\r", [4, 5]),  # a CR alone ends a line too, as pyarrow ends rows
    (b"a,b\r\n1,x\n\r\n\r3\n\nz,w\r", [5, 7]),  # mixed
    (b'a,b\n1,"x\r\n\r\ny"\r\n\r\n3\r\n2,"q\rr"\r\nz,1\r\n', [6, 9]),  # an empty line inside quotes is no blank line
    (b'a,b\n1,"""\n"""\n\n3\n', [5]),  # doubled quotes around a quoted line break
    (b"\na,b\n1,x\n\n3\n", [5]),  # a blank line before the header
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8 << 20], ids=lambda n: f"chunks of {n}")
@pytest.mark.parametrize(("data", "lines"), FILES, ids=range(len(FILES)))
def test_a_reject_names_its_row_s_first_line(tmp_path, monkeypatch, chunk: int, data: bytes,
                                             lines: list[int]) -> None:
    monkeypatch.setattr("adapters.pyarrow_files.reject_lines.CHUNK", chunk)  # a CRLF split across two reads
    assert reject_lines(tmp_path, data) == lines


def test_a_byte_range_starting_on_a_blank_line_counts_from_its_first_line(tmp_path) -> None:
    data = b"a,b\n" + b"1,x\n" * 8 + b"\n2,y\n\n\n7\nz,1\n"
    assert reject_lines(tmp_path, data, start=data.index(b"\n2,y"), first_line=10) == [14, 15]


def test_rows_over_two_lines_among_bad_rows_through_many_blocks(tmp_path) -> None:
    """Each row takes two lines, and every 1000th row is ragged: past several blocks of the parse that counts."""
    rows = [b'%d,"x\ny"\n' % i if i % 1000 else b"%d\n" % i for i in range(1, 400_001)]
    data = b"a,b\n" + b"".join(rows) + b"z,w\n"
    ragged = [2 + 2 * (i - 1) - (i // 1000 - 1) for i in range(1000, 400_001, 1000)]  # a ragged row is one line
    assert reject_lines(tmp_path, data) == [*ragged, 2 + 2 * 400_000 - 400]
