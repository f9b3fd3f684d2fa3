"""Temp files written next to a local target and then renamed over it, one name per writing process.

A writer killed mid-file (kill -9, the OOM killer, or its worker's death: see parent_watch.py) never
removes its temp, and the partition it was staging is redone by another process under another name:
left alone, every such kill would leave a half-written staged file (up to GBs) in the data dir for
good, hidden from the artifact store, which lists no `.tmp-` name. So a run of a partition first
removes the temps of its targets whose writers have exited. It can tell only for writers on its own
host (a data dir may be shared between machines or containers, each with its own pids), and a writer
still running (a duplicate delivery overlapping this run) keeps its file: it publishes or removes it.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterable
from pathlib import Path

from adapters._shared.parent_watch import alive

PREFIX = ".tmp-"  # the artifact store's prefix for its own temps: never a key, never listed


def _pid_space() -> str:
    """Whose pids these are: the host name, plus the pid namespace where there is one (two containers
    may share a host name, with network_mode: host or the same hostname:, and not their pids)."""
    try:
        return f"{socket.gethostname()}.{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return socket.gethostname()


_HOST = _pid_space()


def temp_beside(target: Path) -> Path:
    """This process's temp file for `target`, in the same directory (so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f"{PREFIX}{os.getpid()}@{_HOST}-{target.name}")


def remove_orphans(targets: Iterable[Path]) -> list[Path]:
    """Delete the temps of `targets` left by exited processes of this host (one listing per directory)."""
    folders: dict[Path, set[str]] = {}
    for target in targets:
        folders.setdefault(target.parent, set()).add(target.name)
    removed = []
    for folder, names in folders.items():
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
            for entry in entries:
                writer = _writer(entry.name)
                if writer is not None and writer[1] in names and not alive(writer[0]):
                    Path(entry.path).unlink(missing_ok=True)
                    removed.append(Path(entry.path))
    return removed


def _writer(name: str) -> tuple[int, str] | None:
    """(pid, target name) from a temp this host wrote, `.tmp-{pid}@{host}-{target}`; None for anything else."""
    pid, at, rest = name.removeprefix(PREFIX).partition("@")
    host = f"{_HOST}-"
    if not (name.startswith(PREFIX) and at and pid.isdigit() and rest.startswith(host)):
        return None
    return int(pid), rest[len(host):]
