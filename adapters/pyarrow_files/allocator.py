"""Runs first in a staging process, before anything imports pyarrow (a pool initializer)."""

from __future__ import annotations

import os


def prefer_returning_allocator() -> None:
    """jemalloc hands freed Arrow buffers back to the OS; the default mimalloc keeps them, which left
    a staging process 30-60 MiB larger at its peak on the 5M-row benchmark, for no speed gain. Read
    by pyarrow at import, so it must be set before; staging also switches pools when it starts, for
    processes where pyarrow came first. An explicit ARROW_DEFAULT_MEMORY_POOL wins."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
