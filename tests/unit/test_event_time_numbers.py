"""An event's `ts` as a number out of range: the reason names the unit it looks like, and only a unit
it plausibly is (a time of this era in milli-, micro- or nanoseconds), never one it is not."""

from __future__ import annotations

import pytest

from domain.types.streams import MalformedEvent, StreamEntry, parse_event

pytestmark = pytest.mark.unit
NOW_S = 1_795_780_800  # 2026-11-27T12:00:00Z


def reason(ts: float) -> str:
    with pytest.raises(MalformedEvent) as caught:
        parse_event(StreamEntry("1-0", f'{{"e": "a", "ts": {ts!r}}}'), "e", ())
    return str(caught.value)


@pytest.mark.parametrize(("ts", "unit"), [(NOW_S * 1000, "milliseconds"), (NOW_S * 10**6, "microseconds"),
                                          (NOW_S * 10**9, "nanoseconds")])
def test_a_time_of_today_in_a_smaller_unit_is_named_as_such(ts: int, unit: str) -> None:
    assert f"it looks like {unit}: send seconds" in reason(ts)


@pytest.mark.parametrize("ts", [1e20, 1e300, 9e15, 1e13, -1e12])
def test_a_number_that_is_no_time_in_any_unit_gets_no_unit_hint(ts: float) -> None:
    text = reason(ts)
    assert "epoch seconds within years 1..9999" in text and "looks like" not in text
