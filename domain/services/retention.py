"""Retention: plan and apply a model's policy, refuse to delete served versions, sweep orphans.

Deletion order keeps the registry consistent at every step (see ModelRegistry.delete_version):
a version is listed and complete, or unlisted and on its way out; the next run finishes it.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from domain.services.aliases import AliasService
from domain.services.registry import CLAIM, MANIFEST, ModelRegistry
from domain.services.retention_policy import plan_retention, recently_aliased
from domain.types.errors import ArtifactNotFound, Conflict
from domain.types.identifiers import model_name
from domain.types.lifecycle import RetentionPlan, RetentionPolicy, VersionFacts, parse_iso
from domain.types.models import Manifest
from ports.artifact_store import ArtifactStore
from ports.clock import Clock

log = logging.getLogger(__name__)


class RetentionService:
    def __init__(self, store: ArtifactStore, registry: ModelRegistry, aliases: AliasService, clock: Clock,
                 default_policy: RetentionPolicy, orphan_grace: timedelta) -> None:
        self._store = store
        self._registry = registry
        self._aliases = aliases
        self._clock = clock
        self._default = default_policy
        self._grace = orphan_grace

    async def policy(self, model: str) -> RetentionPolicy:
        try:
            return RetentionPolicy(**json.loads(await self._store.get(_policy_key(model))))
        except ArtifactNotFound:
            return self._default

    async def set_policy(self, model: str, policy: RetentionPolicy) -> None:
        await self._registry.list_versions(model)  # 404 for an unknown model
        document = {"keep_last": policy.keep_last, "keep_days": policy.keep_days, "alias_days": policy.alias_days}
        await self._store.put(_policy_key(model), json.dumps(document).encode())

    async def plan(self, model: str) -> RetentionPlan:
        policy = await self.policy(model)
        manifests = await self._registry.list_versions(model)
        facts = [VersionFacts(m.version, parse_iso(m.created_at), m.total_bytes) for m in manifests]
        return plan_retention(model, facts, await self._aliased(model, policy), policy, self._clock.now())

    async def apply(self, model: str) -> tuple[RetentionPlan, list[str]]:
        """Delete what the plan says (logged first), then remove orphans past the grace period."""
        plan = await self.plan(model)
        log.info("retention plan for %s: keep %s, delete %s, reclaim %d bytes",
                 model, list(plan.keep), list(plan.delete), plan.bytes_reclaimed)
        for version in plan.delete:
            await self.delete_version(model, version)
        return plan, await self.remove_orphans(model)

    async def delete_version(self, model: str, version: int) -> Manifest:
        serving = sorted(name for name, v in (await self._aliases.aliases(model)).items() if v == version)
        if serving:
            raise Conflict(f"version {version} of {model!r} is served by alias(es) {', '.join(serving)}; "
                           "move them first", {"aliases": serving})
        return await self._registry.delete_version(model, version)

    async def remove_orphans(self, model: str) -> list[str]:
        """Blobs in version folders that no manifest lists, claimed longer ago than the grace period."""
        removed: list[str] = []
        cutoff = self._clock.now() - self._grace
        for version, keys in (await self._registry.version_folders(model)).items():
            claimed_at = await self._registry.claim_time(model, version)
            if claimed_at is not None and parse_iso(claimed_at) > cutoff:
                continue  # maybe a job still uploading
            orphans = await self._orphans_in(model, version, keys)
            for key in orphans:
                if not key.endswith("/" + CLAIM):
                    await self._store.delete(key)
            if any(key.endswith("/" + CLAIM) for key in orphans):  # last, and its number stays used
                await self._registry.release_claim(model, version)
            removed += orphans
        return removed

    async def _orphans_in(self, model: str, version: int, keys: list[str]) -> list[str]:
        manifest = await self._registry.find_manifest(model, version)
        if manifest is None:
            return keys
        listed = {f.name for f in manifest.files} | {MANIFEST, CLAIM}
        return [k for k in keys if k.rsplit("/", 1)[1] not in listed]

    async def _aliased(self, model: str, policy: RetentionPolicy) -> set[int]:
        since = self._clock.now() - timedelta(days=policy.alias_days)
        current = await self._aliases.aliases(model)
        history = [m for alias in current for m in await self._aliases.history(model, alias)]
        return recently_aliased(history, current.values(), since)


def _policy_key(model: str) -> str:
    return f"models/{model_name(model)}/retention.json"
