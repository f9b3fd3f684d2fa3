"""Version numbers of a model: each handed out once, even after its version is deleted.

models/{name}/versions/{n}/claim.json   create-only: job `job_id` owns number n
models/{name}/claimed_up_to.json        {"version": N}: every number up to N was handed out once

Job records, alias history, signals and audits name versions by number, so a deleted version's
number must not come back. The claims alone cannot say so once a version's folder is gone, hence
the mark: whoever deletes a claim first raises the mark to its number (compare-and-swap, so it
only grows), then deletes it. A claimer lists the claims first and reads the mark second: a claim
missing from its listing was deleted after the mark covered it, so the next number is above both.
Models whose claims were deleted before the mark existed have no mark and count from their claims.
"""

from __future__ import annotations

import json

from domain.types.errors import ArtifactNotFound, Conflict
from domain.types.identifiers import model_name
from ports.artifact_store import ArtifactStore
from ports.clock import Clock

CLAIM = "claim.json"
MARK = "claimed_up_to.json"
MAX_ROUNDS = 50  # compare-and-swap attempts on the mark before giving up (each lost one means progress)


def version_prefix(model: str, version: int) -> str:
    return f"models/{model_name(model)}/versions/{version}/"


def version_of(key: str) -> int:
    return int(key.split("/")[3])


class VersionClaims:
    def __init__(self, store: ArtifactStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def claim(self, model: str, job_id: str) -> int:
        """The version number owned by `job_id`: its earlier claim, else a new create-only claim."""
        claims = await self._claims(model)
        owned = [v for v, owner in claims.items() if owner == job_id]
        if owned:
            return max(owned)
        candidate = max(max(claims, default=0), await self.handed_out(model)) + 1  # the mark after the list
        claimed_at = self._clock.now().isoformat().replace("+00:00", "Z")
        document = json.dumps({"job_id": job_id, "claimed_at": claimed_at}).encode()
        # Losing a race on `create` just means another job took that number: try the next one.
        while not await self._store.create(version_prefix(model, candidate) + CLAIM, document):
            candidate += 1
        return candidate

    async def owned_by(self, model: str, job_id: str) -> int | None:
        owned = [v for v, owner in (await self._claims(model)).items() if owner == job_id]
        return max(owned, default=None)

    async def release(self, model: str, version: int) -> None:
        """Delete a version's claim; its number stays handed out (the mark covers it first)."""
        await self._raise_mark(model, version)
        await self._store.delete(version_prefix(model, version) + CLAIM)

    async def handed_out(self, model: str) -> int:
        """The mark: the highest number whose claim was released (0: none yet)."""
        version, _generation = await self._read_mark(model)
        return version

    async def claim_time(self, model: str, version: int) -> str | None:
        try:
            claimed_at = json.loads(await self._store.get(version_prefix(model, version) + CLAIM)).get("claimed_at")
        except ArtifactNotFound:
            return None
        return str(claimed_at) if claimed_at else None

    async def _raise_mark(self, model: str, version: int) -> None:
        for _ in range(MAX_ROUNDS):
            current, generation = await self._read_mark(model)
            if current >= version:
                return
            try:
                await self._store.compare_and_swap(_mark_key(model), json.dumps({"version": version}).encode(),
                                                   generation)
                return
            except Conflict:
                continue  # another release raised it, or our own write landed after a lost reply: read again
        raise Conflict(f"the version mark of {model!r} kept changing; try again", {"model": model})

    async def _read_mark(self, model: str) -> tuple[int, int | None]:
        try:
            data, generation = await self._store.get_with_generation(_mark_key(model))
        except ArtifactNotFound:
            return 0, None
        return int(json.loads(data)["version"]), generation

    async def _claims(self, model: str) -> dict[int, str]:
        claims: dict[int, str] = {}
        for key in await self._store.list(f"models/{model_name(model)}/versions/"):
            if key.endswith("/" + CLAIM):
                try:
                    claims[version_of(key)] = json.loads(await self._store.get(key)).get("job_id", "")
                except ArtifactNotFound:
                    continue  # released since the listing: the mark, read after it, covers its number
        return claims


def _mark_key(model: str) -> str:
    return f"models/{model_name(model)}/{MARK}"
