"""Persistence backends: memory (default) and a directory that survives restarts.

The store keeps the index of buckets and object versions in memory either way;
a backend only persists records and object bytes. The directory layout is::

    DIR/buckets/<bucket>/bucket.json
    DIR/buckets/<bucket>/objects/<sha256(name)>/<generation>.json   (metadata)
    DIR/buckets/<bucket>/objects/<sha256(name)>/<generation>.bin    (bytes)

Object names are hashed because they may hold ``/`` and exceed file-name
limits. Every file is written to a temporary name and renamed into place, and
the metadata JSON is written last: it is the commit point, so a crash leaves
either the old state or the new one, never a half-written object.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from .model import Bucket, ObjectVersion


class Backend(Protocol):
    def load(self) -> tuple[list[Bucket], list[ObjectVersion]]: ...
    async def save_bucket(self, bucket: Bucket) -> None: ...
    async def delete_bucket(self, name: str) -> None: ...
    async def save_object(self, obj: ObjectVersion, data: bytes) -> None: ...
    async def save_object_meta(self, obj: ObjectVersion) -> None: ...
    async def delete_object(self, obj: ObjectVersion) -> None: ...
    async def read_data(self, obj: ObjectVersion) -> bytes: ...


class MemoryBackend:
    """Keeps object bytes in a dict; records live only in the store's index."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str, int], bytes] = {}

    def load(self) -> tuple[list[Bucket], list[ObjectVersion]]:
        return [], []

    async def save_bucket(self, bucket: Bucket) -> None:
        return None

    async def delete_bucket(self, name: str) -> None:
        return None

    async def save_object(self, obj: ObjectVersion, data: bytes) -> None:
        self._data[(obj.bucket, obj.name, obj.generation)] = bytes(data)

    async def save_object_meta(self, obj: ObjectVersion) -> None:
        return None

    async def delete_object(self, obj: ObjectVersion) -> None:
        self._data.pop((obj.bucket, obj.name, obj.generation), None)

    async def read_data(self, obj: ObjectVersion) -> bytes:
        return self._data[(obj.bucket, obj.name, obj.generation)]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DirectoryBackend:
    """Persists records as JSON files and bytes as ``.bin`` files under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        (self.root / "buckets").mkdir(parents=True, exist_ok=True)

    def _bucket_dir(self, name: str) -> Path:
        return self.root / "buckets" / name

    def _object_base(self, obj: ObjectVersion) -> Path:
        digest = hashlib.sha256(obj.name.encode("utf-8")).hexdigest()
        return self._bucket_dir(obj.bucket) / "objects" / digest / str(obj.generation)

    def load(self) -> tuple[list[Bucket], list[ObjectVersion]]:
        buckets: list[Bucket] = []
        objects: list[ObjectVersion] = []
        for bucket_file in sorted(self.root.glob("buckets/*/bucket.json")):
            buckets.append(Bucket.from_json(json.loads(bucket_file.read_text("utf-8"))))
            for meta in bucket_file.parent.glob("objects/*/*.json"):
                # Orphan .bin files (crash before the commit point) are ignored.
                if meta.with_suffix(".bin").exists():
                    objects.append(ObjectVersion.from_json(json.loads(meta.read_text("utf-8"))))
        return buckets, objects

    async def save_bucket(self, bucket: Bucket) -> None:
        payload = json.dumps(bucket.to_json()).encode("utf-8")
        await asyncio.to_thread(_atomic_write, self._bucket_dir(bucket.name) / "bucket.json", payload)

    async def delete_bucket(self, name: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._bucket_dir(name), True)

    async def save_object(self, obj: ObjectVersion, data: bytes) -> None:
        base = self._object_base(obj)
        await asyncio.to_thread(_atomic_write, base.with_suffix(".bin"), bytes(data))
        await self.save_object_meta(obj)

    async def save_object_meta(self, obj: ObjectVersion) -> None:
        payload = json.dumps(obj.to_json()).encode("utf-8")
        await asyncio.to_thread(_atomic_write, self._object_base(obj).with_suffix(".json"), payload)

    async def delete_object(self, obj: ObjectVersion) -> None:
        base = self._object_base(obj)
        # Metadata first: without it the version no longer exists on reload.
        base.with_suffix(".json").unlink(missing_ok=True)
        base.with_suffix(".bin").unlink(missing_ok=True)

    async def read_data(self, obj: ObjectVersion) -> bytes:
        return await asyncio.to_thread(self._object_base(obj).with_suffix(".bin").read_bytes)
