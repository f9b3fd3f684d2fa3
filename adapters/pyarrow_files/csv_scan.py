"""Find safe CSV cut points: line starts after given byte offsets, their line numbers, quoted newlines.

One sequential pass in large chunks: newlines counted with numpy (3x faster than `bytes.count`,
and it lets go of the GIL, so the daemon's other threads do not slow the scan down: planning a
960 MB file in the daemon went from 0.9 s to 0.15 s), and only for chunks that contain a quote, a vectorised
parity check (a newline seen while an odd number of quotes is open lies inside a quoted field,
so a byte-range cut there would split a row).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import IO

import numpy as np

from adapters.pyarrow_files.locations import RemoteConfig, open_binary, size
from domain.types.partitions import CsvLayout

CHUNK = 8 << 20
PROBE = 64 << 10  # bytes read at a time while looking for the end of a line
_QUOTE, _NEWLINE = 34, 10


def csv_layout(uri: str, targets: Sequence[int], gcs: RemoteConfig | None) -> CsvLayout:
    total = size(uri, gcs)
    with open_binary(uri, gcs) as handle:
        header_end = _line_start_at(handle, 1)
        cuts = sorted({header_end, *(c for t in targets if (c := _line_start_at(handle, t)) < total)})
        handle.seek(0)
        newlines_before, quoted = _count(handle, cuts)
    return CsvLayout(tuple(cuts), tuple(n + 1 for n in newlines_before), quoted, total)


def _line_start_at(handle: IO[bytes], target: int) -> int:
    """The first line start at or after `target` (the file size when there is none)."""
    position = max(target - 1, 0)
    handle.seek(position)
    while chunk := handle.read(PROBE):
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)
    return position


def _count(handle: IO[bytes], cuts: list[int]) -> tuple[list[int], bool]:
    """Newlines before each cut, and whether any newline lies inside quotes."""
    counts = [0] * len(cuts)
    seen, parity, quoted, offset = 0, 0, False, 0
    while chunk := handle.read(CHUNK):
        end = offset + len(chunk)
        data = np.frombuffer(chunk, dtype=np.uint8)
        for i in range(bisect.bisect_left(cuts, offset), bisect.bisect_left(cuts, end)):
            counts[i] = seen + _newlines(data[: cuts[i] - offset])
        seen += _newlines(data)
        if b'"' in chunk:
            inside, parity = _quoted_newline(chunk, parity)
            quoted = quoted or inside
        offset = end
    for i in range(bisect.bisect_left(cuts, offset), len(cuts)):
        counts[i] = seen
    return counts, quoted


def _newlines(data: np.ndarray) -> int:
    return int(np.count_nonzero(data == _NEWLINE))


def _quoted_newline(chunk: bytes, parity: int) -> tuple[bool, int]:
    """Whether a newline in `chunk` follows an odd number of quotes (counting from the file start)."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    quotes, newlines = np.flatnonzero(data == _QUOTE), np.flatnonzero(data == _NEWLINE)
    # Quotes before each newline, by binary search: far cheaper than a running sum over every byte.
    inside = bool(((np.searchsorted(quotes, newlines) + parity) & 1).any())
    return inside, (parity + len(quotes)) & 1
