"""One owner per data dir: the process running its embedded Redis (and, in `local`, its DuckDB file).

A second owner would first stop "the leftover Redis" in the pidfile, which is the live daemon's, and
then fight it for the DuckDB file. The lock is an flock on a file in the data dir, held on an open
descriptor for the owner's whole life: the kernel drops it when the process dies, however it dies,
so a kill -9'd daemon never blocks the next start (and its orphaned Redis is still stopped as a
leftover). The descriptor is not inherited by children (Python opens it close-on-exec, and the pools
are started by a forkserver), so a child outliving its parent cannot keep the lock either.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from domain.types.errors import PermanentError

LOCK_NAME = "mlplane.lock"


class DataDirInUse(PermanentError):
    """Another live process owns the data dir; `owner_pid` is None when it had not written its pid yet."""

    code = "data_dir_in_use"

    def __init__(self, data_dir: Path, owner_pid: int | None) -> None:
        owner = f"mlplane pid {owner_pid}" if owner_pid is not None else "another mlplane process"
        super().__init__(f"data dir {data_dir} is in use by {owner}; stop it or use another MLPLANE_DATA_DIR",
                         {"data_dir": str(data_dir), "owner_pid": owner_pid})
        self.owner_pid = owner_pid


class DataDirLock:
    """`acquire()` or raise DataDirInUse; `release()` (or the process's exit) lets the next owner in."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirInUse(self.data_dir, self._owner_pid()) from None
        # The pid is only for the refusal message: the lock, not the file's content, says who owns the dir.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a stale pid would only mislead whoever reads the file
            os.close(fd)  # closing the descriptor drops the flock

    def _owner_pid(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):  # the owner took the lock but has not written its pid yet
            return None
