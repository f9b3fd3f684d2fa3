"""Temp files of staged targets: a run of a partition removes what a killed writer of the same targets left on
this host, and nothing a running writer, another host's writer or another target still owns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.pyarrow_files.temp_files import remove_orphans, temp_beside

pytestmark = pytest.mark.integration


def exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(10)
    return process.pid


def test_only_the_temps_of_exited_writers_of_these_targets_on_this_host_are_removed(tmp_path: Path) -> None:
    target, other = tmp_path / "staging" / "part-0-shard-1.parquet", tmp_path / "staging" / "part-10-shard-1.parquet"
    mine = temp_beside(target)
    assert mine.parent == target.parent and mine.name.startswith(".tmp-")
    host, dead = mine.name.removeprefix(f".tmp-{os.getpid()}@").removesuffix(f"-{target.name}"), exited_pid()
    assert host.startswith(socket.gethostname())  # the host, and its pid namespace where there is one
    orphan = target.with_name(f".tmp-{dead}@{host}-{target.name}")
    kept = [mine, target,  # a running writer's temp (this process's), and the published file itself
            target.with_name(f".tmp-{dead}@elsewhere-{target.name}"),  # another host's pids mean nothing here
            target.with_name(f".tmp-{dead}@{socket.gethostname()}.1-{target.name}"),  # same name, other pid space
            other.with_name(f".tmp-{dead}@{host}-{other.name}"),  # another partition's
            target.with_name(".tmp-lock"), target.with_name(f".tmp-{os.getpid()}")]  # not a writer's temp
    for path in (orphan, *kept):
        path.write_bytes(b"half")
    assert remove_orphans([target, tmp_path / "gone" / "rejects-0.csv"]) == [orphan]
    assert not orphan.exists() and all(p.exists() for p in kept)
