"""An event's `ts` as text: an offset is honoured, no offset means UTC, whatever zone the host is in."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from domain.types.streams import MalformedEvent, StreamEntry, parse_event

pytestmark = pytest.mark.unit
NOON_UTC = 1_795_780_800.0  # 2026-11-27T12:00:00Z


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def host_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _ts(text: str) -> float:
    return parse_event(StreamEntry("1-0", f'{{"e": "a", "ts": "{text}"}}'), "e", ()).ts


@pytest.mark.parametrize("text", ["2026-11-27T12:00:00", "2026-11-27T12:00:00Z", "2026-11-27T17:30:00+05:30",
                                  "2026-11-27 12:00:00.000"])
def test_text_times_mean_one_instant_in_every_host_zone(host_zone: str, text: str) -> None:
    assert _ts(text) == NOON_UTC


def test_a_date_alone_is_its_midnight_utc(host_zone: str) -> None:
    assert _ts("2026-11-27") == NOON_UTC - 12 * 3600


def test_text_that_is_no_time_names_both_accepted_forms() -> None:
    with pytest.raises(MalformedEvent, match="ISO 8601 text or epoch seconds"):
        _ts("yesterday")
