"""FilesystemArtifactStore: the ArtifactStore port on a directory tree.

Every write fills a temp file first, then renames it over the key, so readers never see a
half-written file. The rename happens under `.tmp-lock` (flock: a crashed holder releases it),
which is what makes `create` (must not exist) and `compare_and_swap` (still at generation G)
atomic against every other writer, in this process or another.

A generation is the file's nanosecond mtime, which the store sets itself to a number above the
store-wide high-water mark kept in the lock file: unlike inode numbers (reused) or the clock
(steps back), it is never handed out twice.

Every `.tmp-` name in the tree is the store's (the staging code writes there too). A writer killed
mid-write leaves its temp for good, so listing a prefix also removes the temps under it whose writers,
processes of this host, have exited (writer_temps.py): the walk reads those names anyway, and callers
list a prefix before they clear it (the end of an ingestion does, whichever way it ended).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import BinaryIO

import anyio

from adapters._shared.writer_temps import PREFIX, abandoned, writer_prefix
from domain.types.errors import ArtifactNotFound, Conflict, InvalidIdentifier, PermanentError
from domain.types.identifiers import artifact_key

_TEMP = PREFIX  # temp files and the lock: never keys, never listed


class FilesystemArtifactStore:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)
        self._lock_path = self._root / (_TEMP + "lock")

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(partial(self._write, key, data))

    async def create(self, key: str, data: bytes) -> bool:
        try:
            await anyio.to_thread.run_sync(partial(self._write, key, data, check=True))
        except Conflict:
            return False
        return True

    async def compare_and_swap(self, key: str, data: bytes, expected_generation: int | None) -> int:
        """Write only if the file is still at `expected_generation` (None: must not exist)."""
        write = partial(self._write, key, data, check=True, expected=expected_generation, strict=True)
        return await anyio.to_thread.run_sync(write)

    async def get(self, key: str) -> bytes:
        data, _generation = await self.get_with_generation(key)
        return data

    async def get_with_generation(self, key: str) -> tuple[bytes, int]:
        try:
            return await anyio.to_thread.run_sync(self._read, self._path(key))
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ArtifactNotFound(f"no artifact at {key!r}", {"key": key}) from exc

    async def list(self, prefix: str) -> Sequence[str]:
        return await anyio.to_thread.run_sync(self._list, prefix)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(self._delete, path)

    def uri(self, key: str) -> str:
        return (self._root / key).as_uri() + ("/" if key.endswith("/") else "")

    def _path(self, key: str) -> Path:
        parts = artifact_key(key).split("/")
        if any(p.startswith(_TEMP) for p in parts):  # our temp files and lock are never keys
            raise InvalidIdentifier(f"invalid artifact key {key!r}: no segment may start with {_TEMP!r}")
        return self._root.joinpath(*parts)

    @contextmanager
    def _locked(self) -> Iterator[BinaryIO]:
        # A fresh open file description per call, so threads of one process exclude each other.
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        with os.fdopen(fd, "r+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield lock  # closing the file releases the lock

    def _write(self, key: str, data: bytes, *, check: bool = False, expected: int | None = None,
               strict: bool = False) -> int:
        """Rename a temp file over the key under the lock; with `check`, only from `expected`.

        `strict` (compare-and-swap) refuses a filesystem that cannot store the generation.
        """
        path = self._path(key)
        temp = self._write_temp(path, data)  # the slow part, outside the lock
        try:
            with self._locked() as lock:
                if check and _generation(path) != expected:
                    raise Conflict(f"artifact {key!r} changed concurrently", {"key": key})
                generation = _stamp(temp, _next_generation(lock), strict)
                os.replace(temp, path)
                return generation
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def _read(self, path: Path) -> tuple[bytes, int]:
        # fstat and read on one descriptor: files are replaced, never rewritten, so they agree.
        with open(path, "rb") as handle:
            return handle.read(), os.fstat(handle.fileno()).st_mtime_ns

    def _delete(self, path: Path) -> None:
        with self._locked():
            path.unlink(missing_ok=True)

    @staticmethod
    def _write_temp(path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=writer_prefix())  # a kill leaves it sweepable
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return temp

    def _list(self, prefix: str) -> Sequence[str]:
        # Walk only below the prefix's directory part: listings stay cheap as the store grows.
        start = self._root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self._root
        keys: list[str] = []
        for dirpath, _dirs, files in os.walk(start):
            relative = Path(dirpath).relative_to(self._root).as_posix()
            base = "" if relative == "." else relative + "/"
            keys.extend(base + f for f in files if not f.startswith(_TEMP))
            _remove_abandoned(dirpath, (f for f in files if (base + f).startswith(prefix)))
        return sorted(k for k in keys if k.startswith(prefix))


def _remove_abandoned(folder: str, names: Iterable[str]) -> None:
    """Delete the temps among `names` whose writers have exited: nothing will ever rename them."""
    for name in names:
        if abandoned(name):
            with suppress(OSError):  # removed meanwhile by another sweep, or a read-only mount
                os.unlink(os.path.join(folder, name))


def _generation(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _next_generation(lock: BinaryIO) -> int:
    """Above both the clock and the last number handed out; caller holds the lock."""
    lock.seek(0)
    last = int(lock.read().strip() or 0)
    generation = max(time.time_ns(), last + 1)
    lock.seek(0)
    lock.truncate()
    lock.write(str(generation).encode())
    lock.flush()
    return generation


def _stamp(temp: str, generation: int, strict: bool) -> int:
    os.utime(temp, ns=(generation, generation))
    stored = os.stat(temp).st_mtime_ns
    if strict and stored != generation:  # e.g. a filesystem with second-granularity mtimes
        raise PermanentError("this filesystem cannot keep nanosecond generations", {"path": temp})
    return stored
