"""Wall time and peak RSS of a process tree, sampled with psutil while a piece of work runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
    peak_child_mib: float  # the biggest process other than the root (a staging worker, Redis...)
    peak_sum_mib: float  # the whole tree (concurrent processes summed) at any sample
    idle_sum_mib: float  # the tree before the work began (a daemon's own footprint)

    @property
    def added_mib(self) -> float:
        return self.peak_sum_mib - self.idle_sum_mib


def measure(pid: int, work: Callable[[], T]) -> tuple[T, Measured]:
    """Run `work` (which waits for the tree rooted at `pid` to do something) and sample that tree."""
    idle = sum(_sizes(pid))
    peaks = [0, 0, 0]
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(pid, peaks, stop), daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    return result, Measured(seconds, peaks[0] / MIB, peaks[2] / MIB, peaks[1] / MIB, idle / MIB)


def _sample(pid: int, peaks: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        sizes = _sizes(pid)
        if sizes:
            peaks[0], peaks[1] = max(peaks[0], max(sizes)), max(peaks[1], sum(sizes))
            peaks[2] = max(peaks[2], *sizes[1:], 0)
        time.sleep(SAMPLE_S)


def _sizes(pid: int) -> list[int]:
    """RSS of the process, then all its descendants (shared pages count once per process)."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    sizes = []
    for process in tree:
        try:
            sizes.append(process.memory_info().rss)
        except psutil.NoSuchProcess:
            continue
    return sizes
