"""Retention: plan and apply a model's policy, refuse to delete versions in use, sweep orphans.

A version in use is one an alias points to (or a move onto it is under way, see deletion_marks.py)
or one a pipeline serves right now: a pipeline keeps serving an older version when it refuses its
alias's new one, and deleting that would leave it nothing to load after a restart.

Deletion order keeps the registry consistent at every step (see ModelRegistry.delete_version):
a version is listed and complete, or unlisted and on its way out; the next run finishes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from domain.services.aliases import AliasService
from domain.services.deletion_marks import MARK, STALE, DeletionMarks
from domain.services.registry import CLAIM, MANIFEST, ModelRegistry
from domain.services.retention_policy import plan_retention, recently_aliased, served_by
from domain.types.errors import ArtifactNotFound, Conflict, MlplaneError, ModelNotFound
from domain.types.identifiers import model_name
from domain.types.lifecycle import RetentionPlan, RetentionPolicy, VersionFacts, parse_iso
from domain.types.models import Manifest
from ports.artifact_store import ArtifactStore
from ports.clock import Clock
from ports.served_versions import ServedVersions

log = logging.getLogger(__name__)


class VersionInUse(Conflict):
    code = "version_in_use"


class RetentionService:
    """`served`: the versions pipelines serve now (None: no pipelines to ask, as in some tests)."""

    def __init__(self, store: ArtifactStore, registry: ModelRegistry, aliases: AliasService, clock: Clock,
                 default_policy: RetentionPolicy, orphan_grace: timedelta, *,
                 served: ServedVersions | None = None) -> None:
        self._store = store
        self._registry = registry
        self._aliases = aliases
        self._clock = clock
        self._default = default_policy
        self._grace = orphan_grace
        self._served = served
        self._marks = DeletionMarks(store, clock)

    async def policy(self, model: str) -> RetentionPolicy:
        return (await self.policy_and_source(model))[0]

    async def policy_and_source(self, model: str) -> tuple[RetentionPolicy, str]:
        """The model's policy, and "stored" (set with set_policy) or "default" (the daemon's settings)."""
        try:
            return RetentionPolicy(**json.loads(await self._store.get(_policy_key(model)))), "stored"
        except ArtifactNotFound:
            return self._default, "default"

    async def set_policy(self, model: str, policy: RetentionPolicy) -> None:
        await self._registry.list_versions(model)  # 404 for an unknown model
        document = {"keep_last": policy.keep_last, "keep_days": policy.keep_days, "alias_days": policy.alias_days}
        await self._store.put(_policy_key(model), json.dumps(document).encode())

    async def plan(self, model: str) -> RetentionPlan:
        return (await self._plan(model))[0]

    async def apply(self, model: str) -> tuple[RetentionPlan, list[str]]:
        """Delete what the plan says (logged first), then remove orphans past the grace period. A version
        that came into use since the plan is kept, and the answer says so."""
        plan, sizes = await self._plan(model)
        log.info("retention plan for %s: keep %s, delete %s, reclaim %d bytes",
                 model, list(plan.keep), list(plan.delete), plan.bytes_reclaimed)
        refused: dict[int, str] = {}
        for version in plan.delete:
            try:
                await self.delete_version(model, version)
            except ModelNotFound:
                continue  # deleted meanwhile by another request: gone as planned
            except Conflict as exc:
                log.info("retention of %s keeps v%d after all: %s", model, version, exc.message)
                refused[version] = f"kept: {exc.message}"
        return _without(plan, refused, sizes), await self.remove_orphans(model)

    async def delete_version(self, model: str, version: int) -> Manifest:
        """Delete a version unless it is in use: mark it first, then look, so that an alias move onto
        it racing this delete either is seen here (409) or sees the mark and is refused."""
        await self._registry.get_version(model, version)  # 404 before anything is written
        token = await self._marks.mark(model, version)
        try:
            await self._refuse_if_in_use(model, version)
            return await self._registry.delete_version(model, version)
        except BaseException:
            with contextlib.suppress(MlplaneError):  # else the mark stays until STALE: moves onto it wait
                await self._marks.unmark(model, version, token)
            raise

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

    async def _plan(self, model: str) -> tuple[RetentionPlan, dict[int, int]]:
        policy = await self.policy(model)
        manifests = await self._registry.list_versions(model)
        facts = [VersionFacts(m.version, parse_iso(m.created_at), m.total_bytes) for m in manifests]
        served = await self._served_versions(model)
        plan = plan_retention(model, facts, await self._aliased(model, policy), policy, self._clock.now(), served)
        return plan, {m.version: m.total_bytes for m in manifests}

    async def _refuse_if_in_use(self, model: str, version: int) -> None:
        aliases = await self._aliases.pointing_to(model, version)
        if aliases:
            raise VersionInUse(f"version {version} of {model!r} is served by alias(es) {', '.join(aliases)}; "
                               "move them first", {"aliases": aliases})
        pipelines = sorted((await self._served_versions(model)).get(version, ()))
        if pipelines:
            raise VersionInUse(f"version {version} of {model!r} is {served_by(pipelines)} right now; delete it once "
                               "the pipeline serves another version", {"pipelines": pipelines})

    async def _served_versions(self, model: str) -> Mapping[int, Sequence[str]]:
        return {} if self._served is None else await self._served.served(model)

    async def _orphans_in(self, model: str, version: int, keys: list[str]) -> list[str]:
        manifest = await self._registry.find_manifest(model, version)
        if manifest is None:
            return keys
        listed = {f.name for f in manifest.files} | {MANIFEST, CLAIM}
        # A deletion mark is a live delete's, unless its deleter died: then moves onto the version wait for us.
        if not await self._marks.abandoned(model, version, max(self._grace, STALE)):
            listed.add(MARK)
        return [k for k in keys if k.rsplit("/", 1)[1] not in listed]

    async def _aliased(self, model: str, policy: RetentionPolicy) -> set[int]:
        since = self._clock.now() - timedelta(days=policy.alias_days)
        current = await self._aliases.aliases(model)
        history = [m for alias in current for m in await self._aliases.history(model, alias)]
        return recently_aliased(history, current.values(), since)


def _without(plan: RetentionPlan, refused: dict[int, str], sizes: dict[int, int]) -> RetentionPlan:
    """The plan as applied: versions refused at deletion time moved to `keep`, with why."""
    if not refused:
        return plan
    return dataclasses.replace(
        plan, keep=tuple(sorted((*plan.keep, *refused))), delete=tuple(v for v in plan.delete if v not in refused),
        reasons={**plan.reasons, **refused}, bytes_reclaimed=plan.bytes_reclaimed - sum(sizes[v] for v in refused))


def _policy_key(model: str) -> str:
    return f"models/{model_name(model)}/retention.json"
