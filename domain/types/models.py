"""Model registry value types: versions, manifests and algorithm descriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.types.training import Task

# Versions count up from 1. A larger number names no version, and as a path segment it could be
# longer than a file name may be (a 400-digit version was an OSError, a 500).
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    family: str
    tasks: tuple[Task, ...]
    hyperparameters_schema: Mapping[str, Any]


@dataclass(frozen=True)
class SerializedModel:
    """A model as files (name -> bytes, never pickle) plus notes for the manifest, e.g. which
    exports were written and how they were verified (`{"onnx": {"max_abs_diff": 3e-7}}`)."""

    files: Mapping[str, bytes]
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileEntry:
    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """Written last into a version folder; its presence marks the version complete."""

    model_name: str
    version: int
    job_id: str
    algorithm: str
    spec: Mapping[str, Any]
    metrics: Mapping[str, float]
    data: Mapping[str, Any]
    files: tuple[FileEntry, ...]
    library_versions: Mapping[str, str]
    created_at: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "version": self.version,
            "job_id": self.job_id,
            "algorithm": self.algorithm,
            "spec": dict(self.spec),
            "metrics": dict(self.metrics),
            "data": dict(self.data),
            "files": [{"name": f.name, "sha256": f.sha256, "bytes": f.bytes} for f in self.files],
            "library_versions": dict(self.library_versions),
            "created_at": self.created_at,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Manifest:
        return cls(
            model_name=raw["model_name"],
            version=int(raw["version"]),
            job_id=raw["job_id"],
            algorithm=raw["algorithm"],
            spec=raw["spec"],
            metrics=raw["metrics"],
            data=raw["data"],
            files=tuple(FileEntry(f["name"], f["sha256"], int(f["bytes"])) for f in raw["files"]),
            library_versions=raw["library_versions"],
            created_at=raw["created_at"],
            extra=raw.get("extra", {}),
        )

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)
