"""Which local files an ingestion may read: those under the configured roots, never the daemon's own.

Sources are paths an API caller names. Without a bound, anyone holding the API token could load
any file the daemon's user can read (keys, credentials, another team's exports) into a table,
and the lines that fail to parse would be copied verbatim into a rejects file they can fetch.
A path is checked twice: as written (made absolute, before the filesystem is touched, so the
answer never tells whether a file outside the roots exists), and each file it expands to with
symlinks resolved (a link inside a root that points outside is refused too). The data dir
(warehouse, artifacts, Redis files) and the secrets dir are refused even inside a root.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from domain.types.errors import InvalidSpec

SETTING = "MLPLANE_INGEST_LOCAL_ROOTS"


@dataclass(frozen=True)
class LocalRoots:
    allowed: tuple[Path, ...]  # each root as configured (made absolute) and with symlinks resolved
    refused: tuple[Path, ...] = ()

    @classmethod
    def of(cls, allowed: Iterable[Path], refused: Iterable[Path] = ()) -> LocalRoots:
        """Roots made absolute and resolved once, when the process starts. Both spellings are kept:
        a path written under a root that is a symlink (/data -> /mnt/disk/data) starts with the
        link, and the files it expands to with the target."""
        return cls(_spellings(allowed), _spellings(refused))

    def check_written(self, path: Path, source: str) -> None:
        """The path as the caller wrote it (a glob pattern included), before anything is read."""
        self._check(Path(os.path.abspath(path)), source)

    def check_found(self, path: Path, source: str) -> None:
        """A file the source expanded to, its symlinks resolved."""
        self._check(path.resolve(), source)

    def _check(self, path: Path, source: str) -> None:
        details = {"field": "sources", "source": source, "allowed_roots": [str(r) for r in self.allowed]}
        if any(path.is_relative_to(r) for r in self.refused):
            raise InvalidSpec(f"source {source!r} is inside the daemon's own data or secrets directory, which "
                              "ingestion never reads", details)
        if not any(path.is_relative_to(r) for r in self.allowed):
            roots = ", ".join(str(r) for r in self.allowed)
            raise InvalidSpec(f"source {source!r} ({path}) is outside the directories ingestion may read ({roots}); "
                              f"move the file under one of them, or add its directory to {SETTING}", details)


def _spellings(paths: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(p for path in paths for p in (Path(os.path.abspath(path)), Path(path).resolve())))


ANYWHERE = LocalRoots((Path("/"),))  # for tools and tests that build the adapter directly
