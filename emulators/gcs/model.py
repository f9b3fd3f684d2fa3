"""Bucket and object records, and their JSON API resource shapes.

Records are plain dataclasses so both backends can persist them as JSON. The
resource builders follow what the official client parses: integers such as
``generation`` and ``size`` travel as strings, timestamps end in ``Z``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

# Object fields a client may set on upload, patch or rewrite.
WRITABLE_OBJECT_FIELDS = (
    "contentType",
    "contentEncoding",
    "contentDisposition",
    "contentLanguage",
    "cacheControl",
    "customTime",
    "metadata",
    "storageClass",
)

DEFAULT_PROJECT = "emulator-project"
PROJECT_NUMBER = "123456789012"


def now_rfc3339() -> str:
    """UTC now as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; the client rejects ``+00:00``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Bucket:
    name: str
    project: str
    time_created: str
    updated: str
    metageneration: int = 1
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def versioning(self) -> bool:
        return bool((self.props.get("versioning") or {}).get("enabled"))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bucket:
        return cls(**data)


@dataclass
class ObjectVersion:
    bucket: str
    name: str
    generation: int
    size: int
    md5: str
    crc32c: str
    time_created: str
    updated: str
    metageneration: int = 1
    props: dict[str, Any] = field(default_factory=dict)
    time_deleted: str | None = None
    component_count: int | None = None

    @property
    def live(self) -> bool:
        return self.time_deleted is None

    @property
    def content_type(self) -> str:
        return str(self.props.get("contentType") or "application/octet-stream")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObjectVersion:
        return cls(**data)


def bucket_resource(bucket: Bucket, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "location": "US",
        "storageClass": "STANDARD",
        "locationType": "multi-region",
        **bucket.props,
        "kind": "storage#bucket",
        "id": bucket.name,
        "name": bucket.name,
        "projectNumber": PROJECT_NUMBER,
        "metageneration": str(bucket.metageneration),
        "timeCreated": bucket.time_created,
        "updated": bucket.updated,
        "etag": f"CA{bucket.metageneration}=",
        "selfLink": f"{base_url}/storage/v1/b/{quote(bucket.name, safe='')}",
    }
    return resource


def object_resource(obj: ObjectVersion, base_url: str) -> dict[str, Any]:
    bucket_q, name_q = quote(obj.bucket, safe=""), quote(obj.name, safe="~")
    resource: dict[str, Any] = {
        "storageClass": "STANDARD",
        **{k: v for k, v in obj.props.items() if v is not None},
        "kind": "storage#object",
        "id": f"{obj.bucket}/{obj.name}/{obj.generation}",
        "name": obj.name,
        "bucket": obj.bucket,
        "generation": str(obj.generation),
        "metageneration": str(obj.metageneration),
        "contentType": obj.content_type,
        "size": str(obj.size),
        "md5Hash": obj.md5,
        "crc32c": obj.crc32c,
        "etag": f"{obj.generation}/{obj.metageneration}",
        "timeCreated": obj.time_created,
        "updated": obj.updated,
        "timeStorageClassUpdated": obj.time_created,
        "selfLink": f"{base_url}/storage/v1/b/{bucket_q}/o/{name_q}",
        "mediaLink": (
            f"{base_url}/download/storage/v1/b/{bucket_q}/o/{name_q}"
            f"?generation={obj.generation}&alt=media"
        ),
    }
    if obj.time_deleted:
        resource["timeDeleted"] = obj.time_deleted
    if obj.component_count is not None:
        resource["componentCount"] = obj.component_count
    return resource


def writable_props(body: dict[str, Any]) -> dict[str, Any]:
    """The subset of a request body that an object may store."""
    return {k: body[k] for k in WRITABLE_OBJECT_FIELDS if k in body}
