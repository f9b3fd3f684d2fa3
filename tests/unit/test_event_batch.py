"""parse_batch: the fast batch parser accepts and refuses exactly what parse_event does, with its reasons."""

from __future__ import annotations

import pytest

from domain.types.event_batch import EventBatch, parse_batch
from domain.types.streams import MalformedEvent, StreamEntry, parse_event

pytestmark = pytest.mark.unit
FIELDS = ("x", "y")
RAW = [
    '{"entity_id": "a", "x": 1, "y": 2.5}', '{"entity_id": 7, "x": -1e300, "y": 0}',
    '{"entity_id": "b", "x": 1, "y": 2, "ts": 1700000000.5}',
    '{"entity_id": "c", "x": 1, "y": 2, "ts": "2026-01-01T00:00:00Z"}',
    '{"entity_id": "d", "x": NaN, "y": 1}', '{"entity_id": "d", "x": 1e999, "y": 1}',
    '{"entity_id": "d", "x": true, "y": 1}', '{"entity_id": "d", "x": "1.5", "y": 1}',
    '{"entity_id": "", "x": 1, "y": 1}', '{"entity_id": false, "x": 1, "y": 1}',
    '{"x": 1, "y": 1}', '{"entity_id": "e", "x": 1}', '[1, 2]', '"text"', '{not json', "",
    '{"entity_id": "f", "x": 1, "y": 2, "ts": "yesterday"}',
    '{"entity_id": "g", "x": 1, "y": 2, "ts": null, "z": NaN}',
    # Numbers no float holds, and times no datetime holds: refused with a reason, never an OverflowError
    # that would fail (and after K tries dead-letter) the whole batch.
    '{"entity_id": "h", "x": 1' + "0" * 400 + ', "y": 2}',
    '{"entity_id": "h", "x": 1, "y": 2, "ts": 1' + "0" * 400 + "}",
    '{"entity_id": "h", "x": 1, "y": 2, "ts": 1e999}', '{"entity_id": "h", "x": 1, "y": 2, "ts": NaN}',
    '{"entity_id": "h", "x": 1, "y": 2, "ts": -1e300}', '{"entity_id": "h", "x": 1, "y": 2, "ts": 1700000000000}',
    '{"entity_id": "h", "x": 1, "y": 2, "ts": 253402214400}', '{"entity_id": "h", "x": 1, "y": 2, "ts": -62135510400}',
    '{"entity_id": "i", "x": 1' + "0" * 5000 + ', "y": 2}',  # past Python's 4300-digit limit
    '{"entity_id": "i", "x": ' + "[" * 5000 + "1" + "]" * 5000 + ', "y": 2}',  # past the recursion limit
]


def test_the_batch_parser_agrees_with_parse_event_on_every_shape() -> None:
    entries = [StreamEntry(f"{1700000000000 + i}-{i}", raw) for i, raw in enumerate(RAW)]
    events, rejected = parse_batch(entries, "entity_id", FIELDS)
    expected_events, expected_rejected = [], []  # the careful parser, one event at a time
    for entry in entries:
        try:
            expected_events.append(parse_event(entry, "entity_id", FIELDS))
        except MalformedEvent as exc:
            expected_rejected.append((entry.id, str(exc)))
    assert list(events) == expected_events
    assert sorted((e.id, reason) for e, reason in rejected) == sorted(expected_rejected)
    assert [e.entity for e in events if e.entity == "h"] == ["h", "h"]  # the two times at the limits
    reasons = dict(expected_rejected)
    assert "finite number, got 1000000000000000000000000000000000000..." in reasons[entries[18].id]
    assert "milliseconds" in reasons[entries[23].id] and "years 1..9999" in reasons[entries[22].id]
    assert reasons[entries[26].id].startswith("bad JSON") and reasons[entries[27].id].startswith("bad JSON")


def test_a_batch_built_from_events_reads_back_the_same_events() -> None:
    entries = [StreamEntry("5-1", '{"entity_id": "a", "x": 1, "y": 2}'),
               StreamEntry("6-0", '{"entity_id": 3, "x": 4, "y": 5}')]
    events, _ = parse_batch(entries, "entity_id", FIELDS)
    assert list(EventBatch.of(list(events))) == list(events) and len(events[0:1]) == 1
