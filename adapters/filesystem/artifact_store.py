"""FilesystemArtifactStore: the ArtifactStore port on a directory tree.

Atomicity comes from the filesystem: `put` writes a temp file then renames it over the key;
`create` hard-links a fully written temp file to the key, which fails if the key exists,
so a create-only write is never observed half-written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import anyio

from domain.types.errors import ArtifactNotFound, InvalidIdentifier


class FilesystemArtifactStore:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._put, self._path(key), data)

    async def create(self, key: str, data: bytes) -> bool:
        return await anyio.to_thread.run_sync(self._create, self._path(key), data)

    async def get(self, key: str) -> bytes:
        try:
            return await anyio.to_thread.run_sync(self._path(key).read_bytes)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ArtifactNotFound(f"no artifact at {key!r}", {"key": key}) from exc

    async def list(self, prefix: str) -> list[str]:
        return await anyio.to_thread.run_sync(self._list, prefix)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    def uri(self, key: str) -> str:
        return (self._root / key).as_uri() + ("/" if key.endswith("/") else "")

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise InvalidIdentifier(f"invalid artifact key {key!r}", {"key": key})
        return self._root.joinpath(*parts)

    def _put(self, path: Path, data: bytes) -> None:
        temp = self._write_temp(path, data)
        os.replace(temp, path)

    def _create(self, path: Path, data: bytes) -> bool:
        temp = self._write_temp(path, data)
        try:
            os.link(temp, path)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(temp)

    @staticmethod
    def _write_temp(path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return temp

    def _list(self, prefix: str) -> list[str]:
        # Walk only below the prefix's directory part: listings stay cheap as the store grows.
        start = self._root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self._root
        keys = []
        for dirpath, _dirs, files in os.walk(start):
            relative = Path(dirpath).relative_to(self._root).as_posix()
            base = "" if relative == "." else relative + "/"
            keys.extend(base + f for f in files if not f.startswith(".tmp-"))
        return sorted(k for k in keys if k.startswith(prefix))
