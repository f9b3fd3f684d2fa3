"""exit_with: a process ends soon after the process it watches is gone, with or without pidfds."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration
WATCHER = """
import os, sys, time
from adapters._shared import parent_watch
if sys.argv[2] == "no-pidfd":
    del os.pidfd_open  # as on a kernel or platform without pidfds: the polling fallback
parent_watch.exit_with(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["pidfd", "no-pidfd"])
def test_a_watcher_exits_once_the_watched_process_is_killed(mode: str) -> None:
    watched = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(watched.pid), mode], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert watcher.stdout is not None and watcher.stdout.readline() == "watching\n"
        time.sleep(0.3)
        assert watcher.poll() is None  # the watched process is alive: the watcher stays
        watched.kill()
        watched.wait(10)
        assert watcher.wait(10) == 1
    finally:
        for process in (watched, watcher):
            process.kill()
            process.wait(10)


def test_a_watcher_of_a_process_already_gone_exits_at_once() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    watcher = subprocess.run([sys.executable, "-c", WATCHER, str(gone.pid), "pidfd"], capture_output=True,
                             text=True, timeout=30)
    assert watcher.returncode == 1
