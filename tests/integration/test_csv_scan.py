"""csv_layout on local files, scanned in chunks much smaller than the file: line numbers at every
cut match a plain count, and a newline inside quotes is found wherever the chunks fall."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from adapters.pyarrow_files import csv_scan
from adapters.pyarrow_files.csv_scan import csv_layout

pytestmark = pytest.mark.integration


def write_csv(path: Path, rows: int, quoted_newline_at: int | None, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = ['"id","name","score"']
    for i in range(rows):
        name = f'"a\nb{i}"' if i == quoted_newline_at else f'"n{i}"' if rng.random() < 0.3 else f"n{i}"
        lines.append(f"{i},{name},{rng.random():.{rng.randint(1, 12)}f}")
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("segments", [1, 2, 5])
@pytest.mark.parametrize("chunk", [7, 64, 1000, 8 << 20])
@pytest.mark.parametrize("quoted_newline_at", [None, 0, 150, 299])
def test_cuts_fall_at_line_starts_with_their_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            chunk: int, quoted_newline_at: int | None,
                                                            segments: int) -> None:
    monkeypatch.setattr(csv_scan, "CHUNK", chunk)
    monkeypatch.setattr(csv_scan, "SEGMENTS", segments)
    monkeypatch.setattr(csv_scan, "MIN_SEGMENT", 1)  # segments of a few bytes, cut anywhere
    data = write_csv(tmp_path / "rows.csv", 300, quoted_newline_at, seed=chunk)
    targets = [len(data) * k // 5 for k in range(1, 5)]
    layout = csv_layout(str(tmp_path / "rows.csv"), targets, None)
    assert layout.cuts[0] == data.index(b"\n") + 1  # after the header
    for cut, line in zip(layout.cuts, layout.lines, strict=True):
        assert data[cut - 1: cut] == b"\n" and line == data[:cut].count(b"\n") + 1
    assert len(layout.cuts) == 5
    assert layout.quoted_newlines is (quoted_newline_at is not None)


@pytest.mark.parametrize("segments", [1, 3])
def test_a_quoted_field_whose_newlines_fill_chunks_without_a_quote_is_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segments: int) -> None:
    """Chunks in the middle of a long quoted field hold newlines and no quote: only the parity carried
    in from before tells they are inside it."""
    monkeypatch.setattr(csv_scan, "CHUNK", 16)
    monkeypatch.setattr(csv_scan, "SEGMENTS", segments)
    monkeypatch.setattr(csv_scan, "MIN_SEGMENT", 1)
    data = ('id,text\n1,a\n2,"' + "x\n" * 100 + '"\n3,c\n').encode()
    (tmp_path / "long.csv").write_bytes(data)
    assert csv_layout(str(tmp_path / "long.csv"), [len(data) // 2], None).quoted_newlines
