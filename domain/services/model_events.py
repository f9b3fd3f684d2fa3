"""A model's changes on its event topic `model:{name}`: versions published and deleted, alias moves.

The artifact store stays the record (manifests, alias history); the topic is how a subscriber
(`/v1/events?topics=model:NAME`) hears of a change as it happens, and its backlog replays recent
ones. Each event is appended once the change is durable, so a subscriber never sees a change that
then did not happen. An event log that cannot be reached at that moment does not undo or fail the
change (a retry would move an alias twice, or answer 404 for a version already deleted): the
event is left out and logged as a warning instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from domain.types.errors import TransientError
from domain.types.identifiers import model_name
from ports.clock import Clock
from ports.event_log import EventLog

VERSION_PUBLISHED = "version_published"
VERSION_DELETED = "version_deleted"
ALIAS_MOVED = "alias_moved"

log = logging.getLogger(__name__)


def model_topic(model: str) -> str:
    return f"model:{model_name(model)}"


class ModelEvents:
    """`log` None: a registry without a feed (tools and tests that need none)."""

    def __init__(self, log: EventLog | None, clock: Clock) -> None:
        self._log = log
        self._clock = clock

    async def emit(self, model: str, type: str, data: Mapping[str, Any]) -> None:
        if self._log is None:
            return
        try:
            await self._log.append(model_topic(model), type, {"model": model, **data}, self._clock.now())
        except TransientError as exc:
            log.warning("%s of %s is done but could not be announced on %s: %s",
                        type, model, model_topic(model), exc)
