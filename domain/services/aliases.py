"""Movable aliases (production, staging...) with an audit trail that has no gaps.

models/{name}/aliases/{alias}.json                       {"version", "seq"}: moved by compare-and-swap
models/{name}/aliases/{alias}/history/{seq:010d}.json    one entry per move, create-only

A move first claims history entry seq+1 (create-only: one mover wins), then swaps the alias
document from seq to seq+1. A mover that crashed between the two leaves an entry ahead of the
document; the next mover applies it first (roll forward), so history and alias never disagree.
A completed move is announced on the model's topic (`alias_moved`, see model_events.py).
"""

from __future__ import annotations

import json
from datetime import datetime

from domain.services.model_events import ALIAS_MOVED
from domain.services.registry import ModelRegistry
from domain.types.errors import ArtifactNotFound, Conflict
from domain.types.identifiers import model_name
from domain.types.lifecycle import AliasMove
from ports.artifact_store import ArtifactStore
from ports.clock import Clock

UNCONDITIONAL = object()  # expected_version not given: move whatever the alias points to now
MAX_ROUNDS = 50


class AliasConflict(Conflict):
    code = "alias_conflict"


class AliasService:
    def __init__(self, store: ArtifactStore, registry: ModelRegistry, clock: Clock) -> None:
        self._store = store
        self._registry = registry
        self._clock = clock

    async def current(self, model: str, alias: str) -> int | None:
        state, _generation = await self._read(model, alias)
        return None if state is None else int(state["version"])

    async def aliases(self, model: str) -> dict[str, int]:
        prefix = f"models/{model_name(model)}/aliases/"
        names = [k[len(prefix):-5] for k in await self._store.list(prefix) if k.count("/") == 3 and k.endswith(".json")]
        return {name: version for name in names if (version := await self.current(model, name)) is not None}

    async def move(self, model: str, alias: str, version: int, *, reason: str, by: str,
                   expected_version: object = UNCONDITIONAL) -> AliasMove:
        manifest = await self._registry.get_version(model, version)  # only complete versions are served
        for _ in range(MAX_ROUNDS):
            state, generation = await self._read(model, alias)
            current, seq = (None, 0) if state is None else (int(state["version"]), int(state["seq"]))
            if expected_version is not UNCONDITIONAL and expected_version != current:
                raise AliasConflict(
                    f"alias {alias!r} of {model!r} points to {current}, not {expected_version}",
                    {"alias": alias, "current_version": current, "expected_version": expected_version})
            pending = await self._entry(model, alias, seq + 1)
            if pending is not None:  # a mover crashed after claiming seq+1: finish its move first
                await self._apply(model, alias, pending, generation)
                continue
            move = AliasMove(alias, seq + 1, current, version, self._clock.now(), by, reason, manifest.metrics)
            if await self._store.create(self._history_key(model, alias, move.seq), _encode(move.to_dict())):
                await self._apply(model, alias, move, generation)
                await self._registry.events.emit(model, ALIAS_MOVED, move.to_dict())
                return move
        raise AliasConflict(f"alias {alias!r} of {model!r} kept moving; try again", {"alias": alias})

    async def history(self, model: str, alias: str) -> list[AliasMove]:
        keys = await self._store.list(self._history_key(model, alias, None))
        return [AliasMove.from_dict(json.loads(await self._store.get(k))) for k in keys]

    async def serving_at(self, model: str, alias: str, moment: datetime) -> AliasMove | None:
        """The move in force at `moment` (its `to_version` was serving), or None before the first."""
        earlier = [m for m in await self.history(model, alias) if m.at <= moment]
        return earlier[-1] if earlier else None

    async def _apply(self, model: str, alias: str, move: AliasMove, generation: int | None) -> None:
        document = _encode({"version": move.to_version, "seq": move.seq, "at": move.to_dict()["at"]})
        try:
            await self._store.compare_and_swap(self._alias_key(model, alias), document, generation)
        except Conflict:
            state, _ = await self._read(model, alias)
            if state is None or int(state["seq"]) < move.seq:
                raise  # cannot happen while every writer follows this protocol: surface it
            # someone else rolled this same entry forward: the move is done

    async def _read(self, model: str, alias: str) -> tuple[dict[str, int] | None, int | None]:
        try:
            data, generation = await self._store.get_with_generation(self._alias_key(model, alias))
        except ArtifactNotFound:
            return None, None
        return json.loads(data), generation

    async def _entry(self, model: str, alias: str, seq: int) -> AliasMove | None:
        try:
            return AliasMove.from_dict(json.loads(await self._store.get(self._history_key(model, alias, seq))))
        except ArtifactNotFound:
            return None

    @staticmethod
    def _alias_key(model: str, alias: str) -> str:
        return f"models/{model_name(model)}/aliases/{model_name(alias)}.json"

    @staticmethod
    def _history_key(model: str, alias: str, seq: int | None) -> str:
        base = f"models/{model_name(model)}/aliases/{model_name(alias)}/history/"
        return base if seq is None else f"{base}{seq:010d}.json"


def _encode(document: dict[str, object]) -> bytes:
    return json.dumps(document, sort_keys=True).encode()
