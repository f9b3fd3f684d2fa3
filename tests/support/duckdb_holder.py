"""Another process holding a DuckDB file open, as a second `mlplane up` or a `duckdb` shell would:
DuckDB then refuses every other process the file (an IOException naming the holder's pid)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()"


@contextlib.contextmanager
def duckdb_held_by_another_process(path: Path) -> Iterator[int]:
    """Yields the holder's pid once it has the file; it lets go (exits) when the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # its read ends: it exits and DuckDB releases the lock
        try:
            holder.wait(10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait(10)
