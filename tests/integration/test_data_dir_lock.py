"""The data dir's owner lock: a second owner is refused with the first one's pid, and the lock goes with
its owner however it ends (released, or the process killed), so a crash never blocks the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.embedded_redis import DataDirInUse, DataDirLock

pytestmark = pytest.mark.integration
HOLD = ("import sys, time; from pathlib import Path; from adapters.embedded_redis import DataDirLock;"
        "DataDirLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(60)")


def test_a_second_owner_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path / "data")
    first.acquire()
    try:
        with pytest.raises(DataDirInUse) as refused:
            DataDirLock(tmp_path / "data").acquire()
    finally:
        first.release()

    assert refused.value.owner_pid == os.getpid()
    assert refused.value.message == (f"data dir {(tmp_path / 'data').resolve()} is in use by mlplane pid "
                                     f"{os.getpid()}; stop it or use another MLPLANE_DATA_DIR")


def test_a_released_lock_lets_the_next_owner_in(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    first.release()

    second = DataDirLock(tmp_path)
    second.acquire()
    second.release()


def test_a_killed_owner_leaves_the_data_dir_free(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                          cwd=Path(__file__).resolve().parents[2]) as owner:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "locked"
        with pytest.raises(DataDirInUse) as refused:
            DataDirLock(tmp_path).acquire()
        assert refused.value.owner_pid == owner.pid
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(10)

    after_crash = DataDirLock(tmp_path)
    after_crash.acquire()  # the kernel dropped the dead owner's lock; its pid left in the file does not matter
    after_crash.release()
