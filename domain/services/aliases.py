"""Movable aliases (production, staging...) with an audit trail that has no gaps.

models/{name}/aliases/{alias}.json                       {"version", "seq"}: moved by compare-and-swap
models/{name}/aliases/{alias}/history/{seq:010d}.json    one entry per move, create-only

A move first claims history entry seq+1 (create-only: one mover wins), then settles it: swaps the
alias document from seq to seq+1. A mover that crashed between the two leaves an entry ahead of the
document; the next mover settles it first (roll forward), so history and alias never disagree.

Settling looks at the entry's version first, after the entry is claimed: that order is what lets a
concurrent delete of the version see the move (see deletion_marks.py). A version being deleted, or
gone, is never applied: the entry is voided instead. The document takes seq+1 but keeps its version
(and says `"voided": n`), the entry is marked `"voided"`, and history leaves it out: its seq is the
only gap history can have. A completed move is announced on the model's topic (`alias_moved`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain.services.deletion_marks import DeletionMarks, VersionBeingDeleted
from domain.services.model_events import ALIAS_MOVED
from domain.services.registry import ModelRegistry
from domain.types.errors import ArtifactNotFound, Conflict, MlplaneError
from domain.types.identifiers import model_name
from domain.types.lifecycle import AliasMove
from ports.artifact_store import ArtifactStore
from ports.clock import Clock

UNCONDITIONAL = object()  # expected_version not given: move whatever the alias points to now
MAX_ROUNDS = 50
State = dict[str, Any] | None  # the alias document: None before the first move


class AliasConflict(Conflict):
    code = "alias_conflict"


class AliasService:
    def __init__(self, store: ArtifactStore, registry: ModelRegistry, clock: Clock) -> None:
        self._store = store
        self._registry = registry
        self._clock = clock
        self._marks = DeletionMarks(store, clock)

    async def current(self, model: str, alias: str) -> int | None:
        state, _generation = await self._read(model, alias)
        return _version(state)

    async def aliases(self, model: str) -> dict[str, int]:
        prefix = f"models/{model_name(model)}/aliases/"
        names = [k[len(prefix):-5] for k in await self._store.list(prefix) if k.count("/") == 3 and k.endswith(".json")]
        return {name: version for name in names if (version := await self.current(model, name)) is not None}

    async def pointing_to(self, model: str, version: int) -> list[str]:
        """Aliases on `version`, or with a move onto it claimed and not settled yet: what a delete of the
        version must not overtake (it asks after writing its deletion mark)."""
        prefix = f"models/{model_name(model)}/aliases/"
        names = {key[len(prefix):].split("/")[0].removesuffix(".json") for key in await self._store.list(prefix)}
        found = []
        for alias in sorted(names):
            state, _generation = await self._read(model, alias)
            pending = await self._raw_entry(model, alias, _seq(state) + 1)
            if _version(state) == version or (pending is not None and not pending.get("voided")
                                              and int(pending["to_version"]) == version):
                found.append(alias)
        return found

    async def move(self, model: str, alias: str, version: int, *, reason: str, by: str,
                   expected_version: object = UNCONDITIONAL) -> AliasMove:
        manifest = await self._registry.get_version(model, version)  # only complete versions are served
        for _ in range(MAX_ROUNDS):
            state, generation = await self._read(model, alias)
            current, seq = _version(state), _seq(state)
            if expected_version is not UNCONDITIONAL and expected_version != current:
                raise AliasConflict(
                    f"alias {alias!r} of {model!r} points to {current}, not {expected_version}",
                    {"alias": alias, "current_version": current, "expected_version": expected_version})
            pending = await self._entry(model, alias, seq + 1)
            if pending is not None:  # a mover crashed after claiming seq+1 (or is settling it): settle it first
                await self._settle(model, alias, pending, generation)
                continue
            await self._finish_void(model, alias, state)
            move = AliasMove(alias, seq + 1, current, version, self._clock.now(), by, reason, manifest.metrics)
            if await self._store.create(self._history_key(model, alias, move.seq), _encode(move.to_dict())):
                refused = await self._settle(model, alias, move, generation)
                if refused is not None:
                    raise refused
                await self._registry.events.emit(model, ALIAS_MOVED, move.to_dict())
                return move
        raise AliasConflict(f"alias {alias!r} of {model!r} kept moving; try again", {"alias": alias})

    async def history(self, model: str, alias: str) -> list[AliasMove]:
        """The moves that took effect, oldest first (not a voided one, nor one still being settled)."""
        keys = await self._store.list(self._history_key(model, alias, None))
        state, _generation = await self._read(model, alias)  # after the listing: entries up to its seq are settled
        moves = []
        for key in keys:
            raw = json.loads(await self._store.get(key))
            move = AliasMove.from_dict(raw)
            voided = raw.get("voided") or (move.seq == _seq(state) and _voided(state))
            if move.seq <= _seq(state) and not voided:
                moves.append(move)
        return moves

    async def serving_at(self, model: str, alias: str, moment: datetime) -> AliasMove | None:
        """The move in force at `moment` (its `to_version` was serving), or None before the first."""
        earlier = [m for m in await self.history(model, alias) if m.at <= moment]
        return earlier[-1] if earlier else None

    async def _settle(self, model: str, alias: str, move: AliasMove, generation: int | None) -> MlplaneError | None:
        """Apply a claimed move, or void it when its version is being deleted or gone: why, if voided."""
        refused = await self._marks.move_refusal(model, move.to_version, self._registry.find_manifest)
        document: dict[str, Any] = {"version": move.to_version, "seq": move.seq, "at": move.to_dict()["at"]}
        if refused is not None:
            document.update(version=move.from_version, voided=move.to_version)
        try:
            await self._store.compare_and_swap(self._alias_key(model, alias), _encode(document), generation)
        except Conflict:
            state, _generation = await self._read(model, alias)
            if _seq(state) < move.seq:
                raise  # cannot happen while every writer follows this protocol: surface it
            return await self._settled_by_another(model, alias, move, state)
        if refused is not None:
            await self._mark_voided(model, alias, move.seq)
        return refused

    async def _settled_by_another(self, model: str, alias: str, move: AliasMove, state: State) -> MlplaneError | None:
        voided = _voided(state) if _seq(state) == move.seq else bool(
            (await self._raw_entry(model, alias, move.seq) or {}).get("voided"))
        if not voided:
            return None
        return VersionBeingDeleted(f"the move of {alias!r} onto version {move.to_version} of {model!r} was "
                                   "cancelled: that version was being deleted", {"version": move.to_version})

    async def _finish_void(self, model: str, alias: str, state: State) -> None:
        """Mark the voided entry the document names, if its voider died first: before seq+1 is claimed,
        so an entry below the document's seq is always marked when voided."""
        if _voided(state):
            await self._mark_voided(model, alias, _seq(state))

    async def _mark_voided(self, model: str, alias: str, seq: int) -> None:
        raw = await self._raw_entry(model, alias, seq)
        if raw is not None and not raw.get("voided"):
            await self._store.put(self._history_key(model, alias, seq), _encode({**raw, "voided": True}))

    async def _read(self, model: str, alias: str) -> tuple[State, int | None]:
        try:
            data, generation = await self._store.get_with_generation(self._alias_key(model, alias))
        except ArtifactNotFound:
            return None, None
        return json.loads(data), generation

    async def _entry(self, model: str, alias: str, seq: int) -> AliasMove | None:
        raw = await self._raw_entry(model, alias, seq)
        return None if raw is None else AliasMove.from_dict(raw)

    async def _raw_entry(self, model: str, alias: str, seq: int) -> dict[str, Any] | None:
        try:
            raw: dict[str, Any] = json.loads(await self._store.get(self._history_key(model, alias, seq)))
        except ArtifactNotFound:
            return None
        return raw

    @staticmethod
    def _alias_key(model: str, alias: str) -> str:
        return f"models/{model_name(model)}/aliases/{model_name(alias)}.json"

    @staticmethod
    def _history_key(model: str, alias: str, seq: int | None) -> str:
        base = f"models/{model_name(model)}/aliases/{model_name(alias)}/history/"
        return base if seq is None else f"{base}{seq:010d}.json"


def _version(state: State) -> int | None:
    return None if state is None or state.get("version") is None else int(state["version"])


def _seq(state: State) -> int:
    return 0 if state is None else int(state["seq"])


def _voided(state: State) -> bool:
    return state is not None and state.get("voided") is not None


def _encode(document: dict[str, object]) -> bytes:
    return json.dumps(document, sort_keys=True).encode()
