"""EntityStateStore port: what rules remember per entity, shared by every consumer of a pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.types.rules import RuleInput


class EntityStateStore(Protocol):
    """Per entity: its newest signal, and per rule when it last fired and for which event
    (domain.types.streams.EntityState); an entity never seen has the empty EntityState()."""

    async def fire(self, pipeline: str, inputs: Sequence[RuleInput], now: float) -> list[list[str]]:
        """Per input, in order, the names of its candidate rules that fire at `now`, as
        `domain.services.rules.decide` defines it, each input seeing the state the ones before it left.

        Decided and recorded in one step per entity, so consumers handling one entity at the same
        time never both fire a rule inside its cooldown, nor both compare with the same previous
        signal. One round trip for the whole call. Raises TransientError when the backend is
        unreachable; nothing is recorded then."""
        ...
