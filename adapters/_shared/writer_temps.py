"""Temp files named for the process writing them: `.tmp-{pid}@{pid space}-{name}`, beside their target.

A writer killed mid-file (kill -9, the OOM killer) never removes its temp, and nothing else will rename
it: from then on it is garbage (up to GBs for a staged partition), and only its name can say so. Only
for writers of this host and pid namespace, though: a data dir may be shared between machines or
containers, each with its own pids. Shared by the filesystem artifact store, which owns every `.tmp-`
name in its tree (never a key, never listed), and the staging code, which writes into that tree.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from adapters._shared.parent_watch import alive

PREFIX = ".tmp-"


def _pid_space() -> str:
    """Whose pids these are: the host name, plus the pid namespace where there is one (two containers
    may share a host name, with network_mode: host or the same hostname:, and not their pids)."""
    try:
        return f"{socket.gethostname()}.{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return socket.gethostname()


_HOST = _pid_space()


def writer_prefix() -> str:
    """What this process's temps start with; the rest names the target (or is random)."""
    return f"{PREFIX}{os.getpid()}@{_HOST}-"


def temp_beside(target: Path) -> Path:
    """This process's temp file for `target`, in the same directory (so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(writer_prefix() + target.name)


def writer(name: str) -> tuple[int, str] | None:
    """(pid, target name) from a temp this host wrote; None for any other name."""
    pid, at, rest = name.removeprefix(PREFIX).partition("@")
    host = f"{_HOST}-"
    if not (name.startswith(PREFIX) and at and pid.isdigit() and rest.startswith(host)):
        return None
    return int(pid), rest[len(host) :]


def abandoned(name: str) -> bool:
    """Whether `name` is a temp whose writer, a process of this host, has exited. A reused pid reads as
    alive: its temp is kept, never one a running writer is still filling."""
    found = writer(name)
    return found is not None and not alive(found[0])
