"""Module-level functions a process pool can import, for tests of adapters._shared.process_jobs."""

from __future__ import annotations

import time
from pathlib import Path

from adapters._shared.process_jobs import Reporter


def count_to(reporter: Reporter, steps: int, pause_s: float, ledger: str | None = None) -> int:
    """Reports each step; stops early when cancelled. Returns (and writes to `ledger`) how far it got."""
    done = 0
    for step in range(1, steps + 1):
        if reporter.cancelled():
            break
        time.sleep(pause_s)
        reporter.report("count", step / steps, {"step": step})
        done = step
    if ledger:
        Path(ledger).write_text(str(done))
    return done
