"""The model registry, kept in the artifact store as folders and small JSON documents.

models/{name}/versions/{n}/claim.json     create-only: who owns version n (see version_claims.py)
models/{name}/versions/{n}/<model files>
models/{name}/versions/{n}/manifest.json  written last: the version is complete
models/{name}/claimed_up_to.json          numbers of deleted versions, never handed out again

Published and deleted versions are announced on the model's topic (see model_events.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from domain.services.model_events import VERSION_DELETED, VERSION_PUBLISHED, ModelEvents
from domain.services.version_claims import CLAIM, VersionClaims, version_of, version_prefix
from domain.types.errors import ArtifactNotFound, IntegrityError, InvalidSpec, ModelNotFound
from domain.types.identifiers import model_name as valid_model_name
from domain.types.models import FileEntry, Manifest
from ports.artifact_store import ArtifactStore
from ports.clock import Clock
from ports.event_log import EventLog

MANIFEST = "manifest.json"
log = logging.getLogger(__name__)
__all__ = ["CLAIM", "MANIFEST", "ModelRegistry", "version_prefix"]


class ModelRegistry:
    def __init__(self, store: ArtifactStore, clock: Clock, events: EventLog | None = None) -> None:
        self._store = store
        self._claims = VersionClaims(store, clock)
        self.events = ModelEvents(events, clock)  # the alias service announces its moves here too

    async def claim_version(self, model: str, job_id: str) -> int:
        """The version number owned by `job_id`: its earlier claim, else a number never handed out."""
        return await self._claims.claim(model, job_id)

    async def version_of_job(self, model: str, job_id: str) -> int | None:
        """The version `job_id` claimed earlier, if any (a re-run after a crash)."""
        return await self._claims.owned_by(model, job_id)

    async def find_manifest(self, model: str, version: int) -> Manifest | None:
        try:
            raw = await self._store.get(version_prefix(model, version) + MANIFEST)
        except ArtifactNotFound:
            return None
        return Manifest.from_dict(json.loads(raw))

    async def publish(self, model: str, version: int, files: Mapping[str, bytes], **fields: Any) -> Manifest:
        """Upload model files, then the manifest last; returns the manifest written."""
        prefix = version_prefix(model, version)
        entries = []
        for name, data in sorted(files.items()):
            await self._store.put(prefix + name, data)
            entries.append(FileEntry(name, hashlib.sha256(data).hexdigest(), len(data)))
        manifest = Manifest(model_name=model, version=version, files=tuple(entries), **fields)
        await self._store.put(prefix + MANIFEST, json.dumps(manifest.to_dict(), indent=2).encode())
        await self.events.emit(model, VERSION_PUBLISHED, {
            "version": version, "job_id": manifest.job_id, "algorithm": manifest.algorithm,
            "metrics": dict(manifest.metrics), "bytes": manifest.total_bytes, "uri": self.uri(model, version)})
        return manifest

    async def list_models(self) -> list[str]:
        keys = await self._store.list("models/")
        names = {key.split("/")[1] for key in keys if key.endswith("/" + MANIFEST)}
        return sorted(names)

    async def require_model(self, model: str) -> None:
        """ModelNotFound unless something of the model is stored (a version, a claim, an alias...)."""
        if not await self._store.list(f"models/{valid_model_name(model)}/"):
            raise ModelNotFound(f"no model named {model!r}", {"model": model})

    async def list_versions(self, model: str) -> list[Manifest]:
        """Complete versions only (those with a manifest), oldest first."""
        numbers = await self._complete_versions(model)
        manifests = [await self.get_version(model, n) for n in numbers]
        return manifests

    async def get_version(self, model: str, version: int) -> Manifest:
        manifest = await self.find_manifest(model, version)
        if manifest is None:
            raise ModelNotFound(
                f"model {model!r} has no complete version {version}", {"model": model, "version": version}
            )
        return manifest

    async def load_files(self, model: str, version: int) -> tuple[Manifest, dict[str, bytes]]:
        """The manifest and every file it lists, each verified against its sha256."""
        manifest = await self.get_version(model, version)
        files = {entry.name: await self._verified(model, version, entry) for entry in manifest.files}
        return manifest, files

    async def load_file(self, model: str, version: int, name: str) -> bytes:
        """One file of a version, verified against its sha256; the other files are neither read nor
        checked, so one corrupt file does not make its intact neighbours unreadable."""
        manifest = await self.get_version(model, version)
        entry = next((e for e in manifest.files if e.name == name), None)
        if entry is None:
            names = sorted(e.name for e in manifest.files)
            raise InvalidSpec(f"version {version} has no file {name!r}; files: {names}", {"field": "file"})
        return await self._verified(model, version, entry)

    async def _verified(self, model: str, version: int, entry: FileEntry) -> bytes:
        data = await self._store.get(version_prefix(model, version) + entry.name)
        actual = hashlib.sha256(data).hexdigest()
        if actual != entry.sha256:
            message = (f"{model} v{version}: stored file {entry.name} does not match the sha256 in its manifest "
                       f"(manifest {entry.sha256}, stored bytes {actual}): the stored copy is corrupt")
            # Stored data gone bad is the operator's to know about: one line, no traceback (it is no bug).
            log.error("integrity check failed: %s", message)
            raise IntegrityError(message, {"model": model, "version": version, "file": entry.name,
                                           "expected_sha256": entry.sha256, "actual_sha256": actual})
        return data

    async def delete_version(self, model: str, version: int) -> Manifest:
        """Manifest first, so the version leaves listings at once; files next; the claim last, released
        so that its number is never handed out again. A failure halfway leaves an unlisted folder
        that the orphan scan finishes removing."""
        manifest = await self.get_version(model, version)
        prefix = version_prefix(model, version)
        await self._store.delete(prefix + MANIFEST)
        for key in await self._store.list(prefix):
            if not key.endswith("/" + CLAIM):
                await self._store.delete(key)
        await self.release_claim(model, version)
        await self.events.emit(model, VERSION_DELETED, {"version": version, "job_id": manifest.job_id})
        return manifest

    async def release_claim(self, model: str, version: int) -> None:
        """Delete a version's claim (its folder is otherwise empty); the number stays used."""
        await self._claims.release(model, version)

    async def version_folders(self, model: str) -> dict[int, list[str]]:
        """Every version folder (complete or not) and the keys in it."""
        folders: dict[int, list[str]] = {}
        for key in await self._store.list(f"models/{valid_model_name(model)}/versions/"):
            folders.setdefault(version_of(key), []).append(key)
        return folders

    async def claim_time(self, model: str, version: int) -> str | None:
        return await self._claims.claim_time(model, version)

    def uri(self, model: str, version: int) -> str:
        return self._store.uri(version_prefix(model, version))

    async def _complete_versions(self, model: str) -> list[int]:
        keys = await self._store.list(f"models/{valid_model_name(model)}/versions/")
        numbers = sorted(version_of(k) for k in keys if k.endswith("/" + MANIFEST))
        if not numbers:
            await self.require_model(model)
        return numbers
