"""A consumer group's replay stream: dead-lettered events handed back to that group alone.

Replaying an event letter must not append it to the input stream again: every pipeline on the
stream would see a new event under a new id, so each would run its side effects a second time
under new idempotency keys. Instead the letter goes to `replay:{group}`, which only that
pipeline's consumers read, as the fields `data` (the raw text) and `id` (the event's original
stream id). The consumer hands it on under the original id, so its windows, signals and action
keys (`{pipeline}:{event id}:{action}`) are those of the first delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def replay_stream_key(namespace: str, group: str) -> str:
    return f"{namespace}replay:{group}"


def original_id(fields: Any) -> str | None:
    """The replayed event's own id, None when the entry carries none (not written by a replay)."""
    value = fields.get(b"id", fields.get("id")) if fields else None
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value if isinstance(value, str) and value else None


class HandedOn:
    """Which replay entries a consumer handed on under each original id: what `ack` of the id acks.
    Entries claimed by another consumer meanwhile stay listed here; acking them again is a no-op."""

    def __init__(self) -> None:
        self._entries: dict[str, list[str]] = {}

    def hold(self, event_id: str, replay_id: str) -> None:
        held = self._entries.setdefault(event_id, [])
        if replay_id not in held:
            held.append(replay_id)

    def of(self, event_ids: Sequence[str]) -> list[str]:
        if not self._entries:  # the usual case: nothing replayed in hand
            return []
        return [r for i in event_ids for r in self._entries.get(i, ())]

    def release(self, event_ids: Sequence[str]) -> None:
        for event_id in event_ids:
            self._entries.pop(event_id, None)
