"""Staged files are written to a temp beside their target, then renamed over it (names: writer_temps.py).

A writer killed mid-file (kill -9, the OOM killer, or its worker's death: see parent_watch.py) never
removes its temp, and the partition it was staging is redone by another process under another name:
left alone, every such kill would leave a half-written staged file (up to GBs) in the data dir. So a
run of a partition first removes the temps of its targets whose writers have exited; the artifact
store removes the rest when their directory is listed, as the end of an ingestion does. A writer still
running (a duplicate delivery overlapping this run) keeps its file: it publishes or removes it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from adapters._shared.writer_temps import PREFIX, abandoned, temp_beside, writer

__all__ = ["PREFIX", "remove_orphans", "temp_beside"]


def remove_orphans(targets: Iterable[Path]) -> list[Path]:
    """Delete the temps of `targets` left by exited processes of this host (one listing per directory)."""
    folders: dict[Path, set[str]] = {}
    for target in targets:
        folders.setdefault(target.parent, set()).add(target.name)
    removed = []
    for folder, names in folders.items():
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
            for entry in entries:
                found = writer(entry.name)
                if found is not None and found[1] in names and abandoned(entry.name):
                    Path(entry.path).unlink(missing_ok=True)
                    removed.append(Path(entry.path))
    return removed
