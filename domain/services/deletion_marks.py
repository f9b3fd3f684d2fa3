"""Deletion marks: a version says it is being deleted before anything of it goes.

models/{name}/versions/{n}/deleting.json   {"token", "at"}: create-only, one deleter at a time

A delete and an alias move onto the same version race unless each records its intent before it
looks at the other's. The deleter writes this mark, then reads every alias, including a move whose
history entry is claimed but not applied yet (see AliasService.pointing_to). A mover claims its
history entry, then reads this mark and the manifest before it applies the entry (AliasService).
Whichever reads second sees the other's intent and backs out: the deleter with a 409, the mover by
voiding its entry (a 409; a 404 once the version is gone). A mover that finds the mark on an intact
version first waits a moment for the deleter's verdict, which is a 409 when it saw the move: so one of
the two wins, rather than neither. The mark goes with the version's files (the manifest first, so "marked, or no
manifest" holds from the mark's write on), or is removed when the deleter backs out.

Only a deleter that died leaves its mark behind. Moves onto that version are refused for STALE; after
it, moves go ahead (a rollback onto an intact version must not wait for the sweep), a delete takes the
mark over, and the orphan sweep removes one older than that (and than its grace period).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from domain.services.version_claims import version_prefix
from domain.types.errors import ArtifactNotFound, Conflict, MlplaneError, ModelNotFound
from domain.types.lifecycle import iso, parse_iso
from ports.artifact_store import ArtifactStore
from ports.clock import Clock

MARK = "deleting.json"
STALE = timedelta(minutes=10)  # a live delete takes seconds: a mark this old was left by a dead deleter
ROUNDS = 5
MOVE_WAIT_S = 5.0  # how long a move waits for a delete that is still checking (it takes well under a second)


class VersionBeingDeleted(Conflict):
    code = "version_being_deleted"


class DeletionMarks:
    def __init__(self, store: ArtifactStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def mark(self, model: str, version: int) -> str:
        """Mark `version` as being deleted; returns this deleter's token. VersionBeingDeleted while
        another delete holds a mark younger than STALE."""
        token = uuid.uuid4().hex
        document = json.dumps({"token": token, "at": iso(self._clock.now())}).encode()
        for _ in range(ROUNDS):
            if await self._store.create(_key(model, version), document):
                return token
            try:
                raw, generation = await self._store.get_with_generation(_key(model, version))
            except ArtifactNotFound:
                continue  # its deleter backed out meanwhile: try again
            held = json.loads(raw)
            if held.get("token") == token:  # our create landed, and its retry after a lost reply did not
                return token
            since = parse_iso(held["at"])
            if self._clock.now() - since < STALE:
                raise self.refusal(model, version, since)
            try:  # its deleter died: carry on with its delete
                await self._store.compare_and_swap(_key(model, version), document, generation)
                return token
            except Conflict:
                continue
        raise VersionBeingDeleted(f"version {version} of {model!r} is being deleted by another request",
                                  {"model": model, "version": version})

    async def unmark(self, model: str, version: int, token: str) -> None:
        """Remove the mark if it is still this deleter's (one that took it over keeps its own)."""
        try:
            held = json.loads(await self._store.get(_key(model, version)))
        except ArtifactNotFound:
            return
        if held.get("token") == token:
            await self._store.delete(_key(model, version))

    async def since(self, model: str, version: int) -> datetime | None:
        """When the delete of `version` began, or None when it is not being deleted."""
        try:
            return parse_iso(json.loads(await self._store.get(_key(model, version)))["at"])
        except ArtifactNotFound:
            return None

    async def move_refusal(self, model: str, version: int,
                           find_manifest: Callable[[str, int], Awaitable[object | None]]) -> MlplaneError | None:
        """Why an alias must not be settled onto `version` (None: it may): gone, or being deleted.

        Read the mark first, the manifest second: a delete removes the manifest before its mark, so
        "no mark, a manifest" means no delete got past its check. A delete still checking backs out when
        it sees the move's claimed entry, so a mark on an intact version is waited for (up to
        MOVE_WAIT_S) before the move gives way: then one of the two wins, rather than neither."""
        waited, delay = 0.0, 0.02
        while True:
            since = await self.since(model, version)
            if await find_manifest(model, version) is None:
                return ModelNotFound(f"model {model!r} has no complete version {version}",
                                     {"model": model, "version": version})
            if since is None or self._clock.now() - since >= STALE:
                # A mark this old was left by a dead deleter: the version stays (its manifest is there). A
                # delete that takes the mark over now checks the aliases after, and sees this move.
                return None
            if waited >= MOVE_WAIT_S:
                return self.refusal(model, version, since)
            await self._clock.sleep(delay)
            waited, delay = waited + delay, min(delay * 2, 0.5)

    async def abandoned(self, model: str, version: int, older_than: timedelta = STALE) -> bool:
        """True when `version` has a mark older than `older_than`: its deleter died (the orphan sweep
        removes such a mark, so that moves onto the version are no longer refused)."""
        since = await self.since(model, version)
        return since is not None and self._clock.now() - since >= older_than

    @staticmethod
    def refusal(model: str, version: int, since: datetime) -> VersionBeingDeleted:
        return VersionBeingDeleted(
            f"version {version} of {model!r} is being deleted (since {iso(since)})",
            {"model": model, "version": version, "deleting_since": iso(since)})


def _key(model: str, version: int) -> str:
    return version_prefix(model, version) + MARK
