"""Checks on the processes a test started: that every one of them has exited (zombies count as gone)."""

from __future__ import annotations

import time

import psutil


def assert_all_gone(processes: list[psutil.Process], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while (left := [p for p in processes if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [" ".join(p.cmdline())[:120] for p in left]


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
