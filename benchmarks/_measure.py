"""Wall time and peak RSS of process trees, sampled with psutil while a piece of work runs.

The first root is "the daemon"; every other process (its children — staging processes, Redis —
and the other roots and their children, e.g. separate workers) counts as a worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import psutil

T = TypeVar("T")
SAMPLE_S = 0.02
MIB = 1 << 20


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_largest_mib: float  # the biggest single process at any sample
    peak_child_mib: float  # the biggest process other than the first root (a staging worker, Redis...)
    peak_sum_mib: float  # all trees (concurrent processes summed) at any sample
    idle_sum_mib: float  # the trees before the work began (a daemon's own footprint)
    root_peak_mib: float = 0.0  # the first root alone (the daemon: API, commit)
    root_idle_mib: float = 0.0

    @property
    def added_mib(self) -> float:
        return self.peak_sum_mib - self.idle_sum_mib


def measure(pid: int | Sequence[int], work: Callable[[], T]) -> tuple[T, Measured]:
    """Run `work` (which waits for the trees rooted at `pid` to do something) and sample those trees."""
    roots = [pid] if isinstance(pid, int) else list(pid)
    idle = _sizes(roots)
    peaks = [0, 0, 0, 0]  # largest, sum, largest non-root, root
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(roots, peaks, stop), daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    root_idle = idle[0] if idle else 0
    return result, Measured(seconds, peaks[0] / MIB, peaks[2] / MIB, peaks[1] / MIB, sum(idle) / MIB,
                            peaks[3] / MIB, root_idle / MIB)


def _sample(roots: list[int], peaks: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        sizes = _sizes(roots)
        if sizes:
            peaks[0], peaks[1] = max(peaks[0], max(sizes)), max(peaks[1], sum(sizes))
            peaks[2] = max(peaks[2], *sizes[1:], 0)
            peaks[3] = max(peaks[3], sizes[0])
        time.sleep(SAMPLE_S)


def _sizes(roots: list[int]) -> list[int]:
    """RSS of the first root, then every other process of all trees (shared pages count once per process)."""
    tree: list[psutil.Process] = []
    for pid in roots:
        try:
            root = psutil.Process(pid)
            tree += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    sizes = []
    for process in tree:
        try:
            sizes.append(process.memory_info().rss)
        except psutil.NoSuchProcess:
            continue
    return sizes
