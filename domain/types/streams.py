"""Values that flow through streaming inference: source entries, parsed events, signals, dead letters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.types.config_fields import finite


class MalformedEvent(ValueError):
    """A source entry that can never be processed; the message is the reason kept in the DLQ."""


# Event times the rest of the system can turn into a datetime: years 1..9999 in epoch seconds.
TS_MIN, TS_MAX = datetime(1, 1, 2, tzinfo=UTC).timestamp(), datetime(9999, 12, 31, tzinfo=UTC).timestamp()
# Times a `ts` in a smaller unit plausibly means (years 2000..2106): 1e20 is no time in any unit.
_ERA = (946_684_800.0, 2.0**32)


@dataclass(frozen=True, slots=True)  # slots: one object per event, thousands per second
class StreamEntry:
    """One entry as read from a consumer group; `deliveries` counts this delivery too.

    `id` is the event's own stream id: what its action keys, signal and dead letter are keyed by and
    what `ack` takes. A replayed event keeps its original id but is placed, in windows and latency,
    at `position`: its replay entry's id (new, and the same at each redelivery of that replay; just
    after an input entry of the same id, EventBatch.position_parts).
    """

    id: str
    raw: str  # the `data` field: the event's JSON text, as the producer wrote it
    deliveries: int = 1
    unreadable: str = ""  # why the source could not read `data` as text (raw then shows it escaped)
    replay_id: str = ""  # the replay entry it came from; "" for an event read from its input stream

    @property
    def position(self) -> str:
        """Where the event stands in its entity's window order: when it was (re)delivered to the group."""
        return self.replay_id or self.id


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    id: str
    entity: str
    ts: float  # seconds since the epoch; the (original) stream id's time when the event has no `ts`
    values: tuple[float, ...]  # one per pipeline field, in PipelineConfig.fields order
    replay_id: str = ""  # as StreamEntry's

    @property
    def position(self) -> str:
        """Its place in the window order (StreamEntry.position)."""
        return self.replay_id or self.id


def parse_event(entry: StreamEntry, entity_key: str, fields: tuple[str, ...]) -> ParsedEvent:
    """The event's entity, time and numeric fields, or MalformedEvent saying what is wrong."""
    if entry.unreadable:
        raise MalformedEvent(entry.unreadable)
    try:
        body = json.loads(entry.raw)
    except (ValueError, RecursionError) as exc:  # ValueError: bad JSON, or an integer past 4300 digits
        raise MalformedEvent(f"bad JSON: {str(exc)[:200]}") from None
    if not isinstance(body, dict):
        raise MalformedEvent("an event must be a JSON object")
    entity = body.get(entity_key)
    if not isinstance(entity, str | int) or isinstance(entity, bool) or entity == "":
        raise MalformedEvent(f"missing or invalid entity key {entity_key!r}")
    values = tuple(_number(body, name) for name in fields)
    return ParsedEvent(entry.id, str(entity), _timestamp(body.get("ts"), entry.id), values, entry.replay_id)


def _number(body: Mapping[str, Any], name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
        raise MalformedEvent(f"field {name!r} must be a finite number, got {_short(value)}")
    return float(value)


def _timestamp(ts: Any, entry_id: str) -> float:
    if ts is None:
        return int(entry_id.split("-")[0]) / 1000.0
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        if not (finite(ts) and TS_MIN <= ts <= TS_MAX):
            raise MalformedEvent(f"'ts' must be epoch seconds within years 1..9999, got {_short(ts)}{_unit_hint(ts)}")
        return float(ts)
    try:
        moment = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"'ts' must be ISO 8601 text or epoch seconds, got {_short(ts)}") from None
    # Without an offset the text is UTC: read as the host's local time, one event would mean
    # different instants on machines in different zones (and its window order with them).
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _unit_hint(ts: float) -> str:
    """The smaller unit in which this number is a time of our era (_ERA), if there is one."""
    for unit, per_second in (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9)):
        if finite(ts) and _ERA[0] <= ts / per_second <= _ERA[1]:
            return f" (it looks like {unit}: send seconds)"
    return ""


def _short(value: Any) -> str:
    """The value as the reason shows it: a 400-digit number or a long string is cut, not stored whole."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


@dataclass(frozen=True, slots=True)
class Prediction:
    score: float  # positive-class probability (binary), top probability (multiclass), or the value
    label: Any  # class label, or the value for regression


@dataclass(frozen=True, slots=True)
class Signal:
    """Fields in the order of to_dict's keys: a JSON encoder of dataclasses writes the same object
    (when the latency is already rounded to the microsecond, as InferenceService does)."""

    event_id: str
    entity: str
    model_version: int
    score: float
    label: Any
    features: Mapping[str, float]
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "entity": self.entity, "model_version": self.model_version,
                "score": self.score, "label": self.label, "features": dict(self.features),
                "latency_ms": round(self.latency_ms, 3)}


@dataclass(frozen=True)
class EntityState:
    """What rules remember per entity: its newest signal (score, label as `rules.label_key` text, and
    its event's position), and per rule when it last fired and for which event."""

    score: float | None = None
    label: str | None = None
    position: str | None = None
    fired_at: Mapping[str, float] = field(default_factory=dict)
    fired_by: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    """`kind` is `event` (the raw source entry) or `action` (an action payload); `key` is the
    idempotency key of an action, or `{pipeline}:{event id}` of an event."""

    id: str
    kind: str
    pipeline: str
    key: str
    cause: str
    attempts: int
    payload: Mapping[str, Any]
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "pipeline": self.pipeline, "key": self.key, "cause": self.cause,
                "attempts": self.attempts, "payload": dict(self.payload), "at": self.at}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DeadLetter:
        return cls(str(raw["id"]), str(raw["kind"]), str(raw["pipeline"]), str(raw["key"]), str(raw["cause"]),
                   int(raw["attempts"]), dict(raw["payload"]), float(raw["at"]))
