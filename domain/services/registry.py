"""The model registry, kept in the artifact store as folders and small JSON documents.

models/{name}/versions/{n}/claim.json     create-only: who owns version n
models/{name}/versions/{n}/<model files>
models/{name}/versions/{n}/manifest.json  written last: the version is complete
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from domain.types.errors import ArtifactNotFound, IntegrityError, ModelNotFound
from domain.types.identifiers import model_name as valid_model_name
from domain.types.models import FileEntry, Manifest
from ports.artifact_store import ArtifactStore
from ports.clock import Clock

CLAIM = "claim.json"
MANIFEST = "manifest.json"


def version_prefix(model: str, version: int) -> str:
    return f"models/{valid_model_name(model)}/versions/{version}/"


class ModelRegistry:
    def __init__(self, store: ArtifactStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def claim_version(self, model: str, job_id: str) -> int:
        """The version number owned by `job_id`: its earlier claim, else a new create-only claim."""
        claims = await self._claims(model)
        owned = [v for v, owner in claims.items() if owner == job_id]
        if owned:
            return max(owned)
        candidate = max(claims, default=0) + 1
        claimed_at = self._clock.now().isoformat().replace("+00:00", "Z")
        document = json.dumps({"job_id": job_id, "claimed_at": claimed_at}).encode()
        # Losing a race on `create` just means another job took that number: try the next one.
        while not await self._store.create(version_prefix(model, candidate) + CLAIM, document):
            candidate += 1
        return candidate

    async def version_of_job(self, model: str, job_id: str) -> int | None:
        """The version `job_id` claimed earlier, if any (a re-run after a crash)."""
        owned = [v for v, owner in (await self._claims(model)).items() if owner == job_id]
        return max(owned, default=None)

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
        return manifest

    async def list_models(self) -> list[str]:
        keys = await self._store.list("models/")
        names = {key.split("/")[1] for key in keys if key.endswith("/" + MANIFEST)}
        return sorted(names)

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
        files = {}
        for entry in manifest.files:
            data = await self._store.get(version_prefix(model, version) + entry.name)
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise IntegrityError(
                    f"{model} v{version}: {entry.name} does not match the sha256 in its manifest",
                    {"model": model, "version": version, "file": entry.name},
                )
            files[entry.name] = data
        return manifest, files

    async def delete_version(self, model: str, version: int) -> Manifest:
        """Manifest first, so the version leaves listings at once; files next; the claim last.
        A failure halfway leaves an unlisted folder that the orphan scan finishes removing."""
        manifest = await self.get_version(model, version)
        prefix = version_prefix(model, version)
        await self._store.delete(prefix + MANIFEST)
        for key in await self._store.list(prefix):
            if not key.endswith("/" + CLAIM):
                await self._store.delete(key)
        await self._store.delete(prefix + CLAIM)
        return manifest

    async def version_folders(self, model: str) -> dict[int, list[str]]:
        """Every version folder (complete or not) and the keys in it."""
        folders: dict[int, list[str]] = {}
        for key in await self._store.list(f"models/{valid_model_name(model)}/versions/"):
            folders.setdefault(_version_of(key), []).append(key)
        return folders

    async def claim_time(self, model: str, version: int) -> str | None:
        try:
            claimed_at = json.loads(await self._store.get(version_prefix(model, version) + CLAIM)).get("claimed_at")
        except ArtifactNotFound:
            return None
        return str(claimed_at) if claimed_at else None


    def uri(self, model: str, version: int) -> str:
        return self._store.uri(version_prefix(model, version))

    async def _complete_versions(self, model: str) -> list[int]:
        keys = await self._store.list(f"models/{valid_model_name(model)}/versions/")
        numbers = sorted(_version_of(k) for k in keys if k.endswith("/" + MANIFEST))
        if not numbers and not await self._store.list(f"models/{model}/"):
            raise ModelNotFound(f"no model named {model!r}", {"model": model})
        return numbers

    async def _claims(self, model: str) -> dict[int, str]:
        keys = await self._store.list(f"models/{valid_model_name(model)}/versions/")
        claims: dict[int, str] = {}
        for key in keys:
            if key.endswith("/" + CLAIM):
                claims[_version_of(key)] = json.loads(await self._store.get(key)).get("job_id", "")
        return claims


def _version_of(key: str) -> int:
    return int(key.split("/")[3])
