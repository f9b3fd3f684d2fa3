"""A cron expression that cannot be used is refused with the field at fault and what it takes."""

from __future__ import annotations

import pytest

from adapters.cron.calendar import CroniterCalendar
from domain.types.errors import InvalidSpec

pytestmark = pytest.mark.unit


def refusal(expression: str) -> str:
    with pytest.raises(InvalidSpec) as refused:
        CroniterCalendar().validate(expression, "UTC")
    assert refused.value.details["field"] == "cron"
    return refused.value.message


@pytest.mark.parametrize(("expression", "says"), [
    ("61 * * * *", "the minute field '61' is out of range: minute takes 0-59"),
    ("0 24 * * *", "the hour field '24' is out of range: hour takes 0-23"),
    ("0 3 0 * *", "the day-of-month field '0' is out of range: day-of-month takes 1-31"),
    ("0 3 * 13 *", "the month field '13' is out of range: month takes 1-12"),
    ("0 3 * * 8", "the day-of-week field '8' is out of range: day-of-week takes 0-7"),
    ("0-70 * * * *", "the minute field '0-70' is out of range"),
    ("*/0 * * * *", "the minute field '*/0' is not valid"),
])
def test_a_bad_field_is_named_with_its_range(expression: str, says: str) -> None:
    message = refusal(expression)
    assert says in message and "five fields" not in message


def test_a_wrong_field_count_says_how_many_were_given() -> None:
    assert "2 field(s) given; use five fields" in refusal("every hour")
    assert "6 field(s) given" in refusal("0 3 * * 1 0")  # seconds: fires are per minute


def test_valid_expressions_pass() -> None:
    for expression in ("* * * * *", "0 3 * * 1", "*/5 9-17 * jan-mar mon-fri", "0 0 * * 7", "@hourly"):
        CroniterCalendar().validate(expression, "Europe/Paris")
