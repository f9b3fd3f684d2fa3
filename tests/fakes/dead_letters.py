"""In-memory fake of the DeadLetters port, oldest letter first."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from domain.types.errors import NotFound
from domain.types.streams import DeadLetter


class InMemoryDeadLetters:
    def __init__(self, max_letters: int = 100_000) -> None:
        self.items: dict[str, DeadLetter] = {}  # oldest first: dicts keep insertion order
        self._ids = itertools.count(1)
        self._max = max_letters
        self.redelivered: list[tuple[str, str, str]] = []  # (group, original event id, raw) per replay
        self.deleted_pipelines: set[str] = set()  # whose event letters refuse replay

    async def park(self, kind: str, pipeline: str, key: str, cause: str, attempts: int,
                   payload: Mapping[str, Any]) -> DeadLetter:
        existing = next((d.id for d in self.items.values() if (d.kind, d.key) == (kind, key)), None)
        letter_id = existing or f"dl-{next(self._ids)}"
        letter = DeadLetter(letter_id, kind, pipeline, key, cause, attempts, dict(payload), 0.0)
        self.items.pop(letter.id, None)  # parked again: now the newest
        self.items[letter.id] = letter
        while self._max and len(self.items) > self._max:
            del self.items[next(iter(self.items))]
        return letter

    async def list(self, pipeline: str | None = None, kind: str | None = None, limit: int = 100) -> list[DeadLetter]:
        return [d for d in self.items.values() if pipeline in (None, d.pipeline) and kind in (None, d.kind)][:limit]

    async def redeliver(self, letter: DeadLetter, group: str) -> bool:
        if letter.id not in self.items:
            raise NotFound(f"no dead letter {letter.id}")
        if letter.pipeline in self.deleted_pipelines:
            return False
        del self.items[letter.id]
        self.redelivered.append((group, str(letter.payload["id"]), str(letter.payload["raw"])))
        return True

    async def refuse_replays(self, pipeline: str) -> None:
        self.deleted_pipelines.add(pipeline)

    async def accept_replays(self, pipeline: str) -> None:
        self.deleted_pipelines.discard(pipeline)

    async def get(self, letter_id: str) -> DeadLetter:
        if letter_id not in self.items:
            raise NotFound(f"no dead letter {letter_id}")
        return self.items[letter_id]

    async def remove(self, letter_id: str) -> None:
        self.items.pop(letter_id, None)

    async def count(self, pipeline: str) -> int:
        return sum(d.pipeline == pipeline for d in self.items.values())
