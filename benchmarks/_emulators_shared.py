"""What the GCS and BigQuery emulator benchmarks share: running an emulator as its own
`python -m emulators.NAME` subprocess (for `--process`), and timing an action repeatedly."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def subprocess_emulator(name: str, *extra: str) -> Iterator[str]:
    """`python -m emulators.NAME --port 0` on 127.0.0.1; yields the URL it prints, stops it afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", f"emulators.{name}", "--host", "127.0.0.1", "--port", "0", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first line names the URL
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                break
        else:
            raise RuntimeError(f"emulators.{name} exited before printing its URL (rc={proc.wait()})")
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def timed(action: Callable[[int], Any], repeats: int) -> list[float]:
    samples = []
    for i in range(repeats):
        started = time.perf_counter()
        action(i)
        samples.append(time.perf_counter() - started)
    return samples
