"""The emulator's state: buckets, object versions, generations and preconditions.

The index lives in memory for both backends (the directory backend reloads it
at start). Mutations of one object key run under that key's lock, with the
precondition check, the generation allocation and the commit inside it, so
concurrent create-only writers have exactly one winner.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .backends import Backend, MemoryBackend
from .checksums import crc32c_b64, md5_b64
from .errors import GcsError, bad_request, not_found
from .locks import KeyLocks
from .model import WRITABLE_OBJECT_FIELDS, Bucket, ObjectVersion, now_rfc3339
from .preconditions import Preconditions

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


class Store:
    def __init__(self, backend: Backend | None = None) -> None:
        self.backend: Backend = backend or MemoryBackend()
        self.buckets: dict[str, Bucket] = {}
        self.objects: dict[str, dict[str, list[ObjectVersion]]] = {}
        self._locks = KeyLocks()
        self._last_generation = 0
        self._load()

    def _load(self) -> None:
        buckets, objects = self.backend.load()
        for bucket in buckets:
            self.buckets[bucket.name] = bucket
            self.objects[bucket.name] = {}
        for obj in sorted(objects, key=lambda o: o.generation):
            self.objects[obj.bucket].setdefault(obj.name, []).append(obj)
            self._last_generation = max(self._last_generation, obj.generation)

    def _next_generation(self) -> int:
        # Microsecond clock like GCS, but never equal to or below the last one.
        self._last_generation = max(time.time_ns() // 1000, self._last_generation + 1)
        return self._last_generation

    # -- buckets -----------------------------------------------------------
    async def create_bucket(self, name: str, project: str, props: dict[str, Any]) -> Bucket:
        if not _BUCKET_NAME.match(name or ""):
            raise bad_request(f"Invalid bucket name: '{name}'")
        async with self._locks.hold(("bucket", name)):
            if name in self.buckets:
                raise GcsError(409, "Your previous request to create the named bucket succeeded "
                               "and you already own it.", "conflict")
            now = now_rfc3339()
            bucket = Bucket(name=name, project=project, time_created=now, updated=now, props=props)
            await self.backend.save_bucket(bucket)
            self.buckets[name] = bucket
            self.objects[name] = {}
            return bucket

    def get_bucket(self, name: str) -> Bucket:
        bucket = self.buckets.get(name)
        if bucket is None:
            raise not_found("The specified bucket does not exist.")
        return bucket

    async def patch_bucket(self, name: str, props: dict[str, Any], replace: bool) -> Bucket:
        async with self._locks.hold(("bucket", name)):
            bucket = self.get_bucket(name)
            bucket.props = dict(props) if replace else {**bucket.props, **props}
            bucket.props = {k: v for k, v in bucket.props.items() if v is not None}
            bucket.metageneration += 1
            bucket.updated = now_rfc3339()
            await self.backend.save_bucket(bucket)
            return bucket

    async def delete_bucket(self, name: str) -> None:
        async with self._locks.hold(("bucket", name)):
            self.get_bucket(name)
            if any(self.objects[name].values()):
                raise GcsError(409, "The bucket you tried to delete is not empty.", "conflict")
            del self.buckets[name]
            del self.objects[name]
            await self.backend.delete_bucket(name)

    # -- objects -----------------------------------------------------------
    def live(self, bucket: str, name: str) -> ObjectVersion | None:
        self.get_bucket(bucket)
        versions = self.objects[bucket].get(name) or []
        return versions[-1] if versions and versions[-1].live else None

    def get_object(self, bucket: str, name: str, generation: int | None = None) -> ObjectVersion:
        if generation is None:
            obj = self.live(bucket, name)
        else:
            self.get_bucket(bucket)
            found = [o for o in self.objects[bucket].get(name, []) if o.generation == generation]
            obj = found[0] if found else None
        if obj is None:
            raise not_found(f"No such object: {bucket}/{name}")
        return obj

    def list_objects(self, bucket: str, versions: bool) -> list[ObjectVersion]:
        self.get_bucket(bucket)
        result = []
        for name in sorted(self.objects[bucket]):
            chain = self.objects[bucket][name]
            result.extend(chain if versions else [o for o in chain if o.live])
        return result

    async def read_data(self, obj: ObjectVersion) -> bytes:
        return await self.backend.read_data(obj)

    async def put_object(self, bucket: str, name: str, data: bytes, props: dict[str, Any],
                         pre: Preconditions, component_count: int | None = None) -> ObjectVersion:
        if not name:
            raise bad_request("Object name is required.", "required")
        md5, crc = md5_b64(data), crc32c_b64(data)
        async with self._locks.hold((bucket, name)):
            current = self.live(bucket, name)
            pre.check(current, write=True)
            now = now_rfc3339()
            obj = ObjectVersion(bucket=bucket, name=name, generation=self._next_generation(),
                                size=len(data), md5=md5, crc32c=crc, time_created=now, updated=now,
                                props={k: v for k, v in props.items() if v is not None},
                                component_count=component_count)
            await self.backend.save_object(obj, data)
            if bucket not in self.objects:  # bucket deleted while we were writing
                await self.backend.delete_object(obj)
                raise not_found("The specified bucket does not exist.")
            if current is not None:
                await self._retire(current, now)
            self.objects[bucket].setdefault(name, []).append(obj)
            return obj

    async def _retire(self, current: ObjectVersion, now: str) -> None:
        """Make the live version noncurrent (versioned bucket) or drop it."""
        if self.buckets[current.bucket].versioning:
            current.time_deleted = now
            await self.backend.save_object_meta(current)
        else:
            self.objects[current.bucket][current.name].remove(current)
            await self.backend.delete_object(current)

    async def patch_object(self, bucket: str, name: str, generation: int | None,
                           body: dict[str, Any], pre: Preconditions, replace: bool) -> ObjectVersion:
        async with self._locks.hold((bucket, name)):
            obj = self.get_object(bucket, name, generation)
            pre.check(obj, write=True)
            obj.props = _apply_patch({} if replace else obj.props, body)
            obj.metageneration += 1
            obj.updated = now_rfc3339()
            await self.backend.save_object_meta(obj)
            return obj

    async def delete_object(self, bucket: str, name: str, generation: int | None,
                            pre: Preconditions) -> None:
        async with self._locks.hold((bucket, name)):
            obj = self.get_object(bucket, name, generation)
            pre.check(obj, write=True)
            if generation is None and obj.live and self.buckets[bucket].versioning:
                obj.time_deleted = now_rfc3339()
                await self.backend.save_object_meta(obj)
                return
            self.objects[bucket][name].remove(obj)
            if not self.objects[bucket][name]:
                del self.objects[bucket][name]
            await self.backend.delete_object(obj)


def _apply_patch(props: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Merge writable fields; ``None`` deletes, and ``metadata`` merges per key."""
    result = dict(props)
    for key in WRITABLE_OBJECT_FIELDS:
        if key not in body:
            continue
        value = body[key]
        if key == "metadata" and value is not None:
            merged = {**(result.get("metadata") or {}), **value}
            value = {k: str(v) for k, v in merged.items() if v is not None} or None
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result
