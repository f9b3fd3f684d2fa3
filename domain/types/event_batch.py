"""A micro-batch of parsed events as columns, and the batch parser that produces it.

Per-event Python objects are what made the pipeline slow: the parser keeps one fast path for the
usual event (orjson, exact type checks, one vectorized finiteness test) and hands anything unusual
to `parse_event`, so both accept and refuse exactly the same events, with the same reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from domain.types.column_batch import ColumnBatch
from domain.types.streams import TS_MAX, TS_MIN, MalformedEvent, ParsedEvent, StreamEntry, parse_event

Rejected = list[tuple[StreamEntry, str]]  # entries that can never be processed, with the reason
_NUMBERS = frozenset({int, float})  # exact types: a bool is an int subclass and is refused
_REPLAY_ID = attrgetter("replay_id")


class EventBatch(ColumnBatch[ParsedEvent]):
    """What windows and features consume; still a Sequence of ParsedEvent for code that wants rows."""

    def __init__(self, ids: list[str], entities: list[str], ts: npt.NDArray[np.float64],
                 values: npt.NDArray[np.float64], positions: list[str] | None = None) -> None:
        self.ids, self.entities, self.ts, self.values = ids, entities, ts, values  # values: [events, fields]
        self.positions = ids if positions is None else positions  # StreamEntry.position; the ids unless replayed
        self._position_parts: npt.NDArray[np.float64] | None = None

    def position_parts(self) -> npt.NDArray[np.float64]:
        """[events, 2]: each position's (stream id's) milliseconds and sequence number, as float64 (exact
        below 2^53). Parsed once per batch: windows and latencies both need them.
        A replay entry is numbered apart from the input stream: its id may also name an input event.
        A replayed event stands half a step after that id, so no two events share a window position
        (the window would take the second for a redelivery of the first)."""
        if self._position_parts is None:
            text = " ".join(self.positions).replace("-", " ")
            parts = np.array(text.split(), dtype=np.float64).reshape(len(self.positions), 2)
            if self.positions is not self.ids:  # a batch with replayed events
                parts[:, 1] += [0.5 if p != i else 0.0 for p, i in zip(self.positions, self.ids, strict=True)]
            self._position_parts = parts
        return self._position_parts

    @classmethod
    def of(cls, events: Sequence[ParsedEvent]) -> EventBatch:
        if isinstance(events, EventBatch):
            return events
        width = len(events[0].values) if events else 0
        return cls([e.id for e in events], [e.entity for e in events], np.array([e.ts for e in events], dtype=float),
                   np.array([e.values for e in events], dtype=float).reshape(len(events), width),
                   [e.position for e in events])

    def __len__(self) -> int:
        return len(self.ids)

    def _row(self, i: int) -> ParsedEvent:
        event_id, position = self.ids[i], self.positions[i]
        return ParsedEvent(event_id, self.entities[i], float(self.ts[i]), tuple(self.values[i].tolist()),
                           "" if position == event_id else position)


def parse_batch(entries: Sequence[StreamEntry], entity_key: str,
                fields: tuple[str, ...]) -> tuple[EventBatch, Rejected]:
    """The batch's well-formed events in order, and the others with what `parse_event` says of them."""
    kept: list[StreamEntry] = []
    entities: list[str] = []
    stamps: list[float] = []
    rows: list[Any] = []
    rejected: Rejected = []
    pick = _picker(fields)
    for entry in entries:
        row: tuple[str, float, Sequence[Any]] | None = _fast(entry, entity_key, pick)
        if row is None:
            try:
                event = parse_event(entry, entity_key, fields)
            except MalformedEvent as exc:
                rejected.append((entry, str(exc)))
                continue
            row = (event.entity, event.ts, event.values)
        kept.append(entry)
        entities.append(row[0])
        stamps.append(row[1])
        rows.append(row[2])
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(fields))
    finite = np.isfinite(values).all(axis=1)
    if not finite.all():  # rare (orjson refuses NaN and overflowing numbers): keep the careful parser's reason
        rejected += [(kept[i], _reason(kept[i], entity_key, fields)) for i in np.flatnonzero(~finite).tolist()]
        keep = np.flatnonzero(finite).tolist()
        kept, entities, stamps, values = [kept[i] for i in keep], [entities[i] for i in keep], \
            [stamps[i] for i in keep], values[keep]
    ids = [e.id for e in kept]
    # Replays are rare: the usual batch shares its ids list as positions, at the cost of one scan.
    positions = [e.position for e in kept] if any(map(_REPLAY_ID, kept)) else ids
    return EventBatch(ids, entities, np.array(stamps, dtype=np.float64), values, positions), rejected


def _picker(fields: tuple[str, ...]) -> Callable[[Any], Sequence[Any]]:
    """The fields' values of a body, as a tuple, in one C call (KeyError if one is missing)."""
    if len(fields) == 1:
        return lambda body: (body[fields[0]],)
    return itemgetter(*fields)


def _fast(entry: StreamEntry, entity_key: str,
          pick: Callable[[Any], Sequence[Any]]) -> tuple[str, float, Sequence[Any]] | None:
    """(entity, ts, values) of an event of the usual shape, else None; finiteness is checked later."""
    if entry.unreadable:
        return None
    try:
        body = orjson.loads(entry.raw)
        entity, values, ts = body[entity_key], pick(body), body.get("ts")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
    if not ((type(entity) is str and entity) or type(entity) is int) or not set(map(type, values)) <= _NUMBERS:
        return None
    if ts is None:
        return str(entity), int(entry.id.partition("-")[0]) / 1000.0, values
    return (str(entity), float(ts), values) if type(ts) in _NUMBERS and TS_MIN <= ts <= TS_MAX else None


def _reason(entry: StreamEntry, entity_key: str, fields: tuple[str, ...]) -> str:
    try:
        parse_event(entry, entity_key, fields)
    except MalformedEvent as exc:
        return str(exc)
    return "a field is not a finite number"
