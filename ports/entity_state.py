"""EntityStateStore port: what rules remember per entity (previous signal, cooldowns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from domain.types.streams import EntityState


class EntityStateStore(Protocol):
    """Last writer wins per entity; unknown entities read as the empty EntityState()."""

    async def get_many(self, pipeline: str, entities: Sequence[str]) -> dict[str, EntityState]: ...

    async def put_many(self, pipeline: str, states: Mapping[str, EntityState]) -> None: ...
