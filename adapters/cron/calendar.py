"""CroniterCalendar: the CronCalendar port on croniter and zoneinfo (DST-aware)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from domain.types.errors import InvalidSpec

# The five fields in order: name, lowest and highest number, and how the allowed values read
# (croniter also takes names for months and week days).
FIELDS = (("minute", 0, 59, "0-59"), ("hour", 0, 23, "0-23"), ("day-of-month", 1, 31, "1-31"),
          ("month", 1, 12, "1-12 or jan-dec"), ("day-of-week", 0, 7, "0-7 or sun-sat (0 and 7 are Sunday)"))
FORMS = "'*', a number, a range 'a-b', a list 'a,b' or a step '*/n'"
EXAMPLE = "e.g. '0 3 * * 1' (minute hour day-of-month month day-of-week)"


class CroniterCalendar:
    def validate(self, expression: str, timezone: str) -> None:
        _zone(timezone)
        problem = _problem(expression)
        if problem is not None:
            raise InvalidSpec(f"invalid cron expression {expression!r}: {problem}", {"field": "cron"})

    def next_times(self, expression: str, timezone: str, after: datetime, count: int) -> list[datetime]:
        self.validate(expression, timezone)
        try:
            iterator = croniter(expression, after.astimezone(_zone(timezone)))
            return [iterator.get_next(datetime).astimezone(UTC) for _ in range(count)]
        except (CroniterBadCronError, CroniterBadDateError) as exc:
            raise InvalidSpec(f"cron expression {expression!r} never fires: {exc}", {"field": "cron"}) from exc


    def previous_time(self, expression: str, timezone: str, at: datetime) -> datetime | None:
        self.validate(expression, timezone)
        # croniter's previous fire is strictly before its base: a base inside `at`'s minute includes that minute.
        base = at.replace(second=0, microsecond=0) + timedelta(seconds=1)
        try:
            fire: datetime = croniter(expression, base.astimezone(_zone(timezone))).get_prev(datetime)
        except CroniterBadDateError:  # no fire that far back (e.g. "0 0 30 2 *": never)
            return None
        except CroniterBadCronError as exc:
            raise InvalidSpec(f"invalid cron expression {expression!r}: {exc}", {"field": "cron"}) from exc
        return fire.astimezone(UTC)


def _problem(expression: str) -> str | None:
    """What is wrong with the expression, or None. Fires are minutes (ids are per minute), so croniter's
    sixth (seconds) field is refused; its @hourly-style shortcuts are kept."""
    if expression.strip().startswith("@"):
        return None if croniter.is_valid(expression) else f"unknown shortcut; use five fields, {EXAMPLE}"
    fields = expression.split()
    if len(fields) != len(FIELDS):
        return f"{len(fields)} field(s) given; use five fields, {EXAMPLE}"
    for index, value in enumerate(fields):
        alone = ["*"] * len(FIELDS)
        alone[index] = value
        if not croniter.is_valid(" ".join(alone)):  # judged alone, so the message names this field
            return _field_problem(index, value)
    return None if croniter.is_valid(expression) else f"the fields do not form a valid schedule; {EXAMPLE}"


def _field_problem(index: int, value: str) -> str:
    name, low, high, allowed = FIELDS[index]
    # Numbers after a '/' are step sizes, not values: only the others must lie in the field's range.
    values = [int(n) for n in re.findall(r"(?<![/\d])\d+", value)]
    if any(not low <= n <= high for n in values):
        return f"the {name} field {value!r} is out of range: {name} takes {allowed}"
    return f"the {name} field {value!r} is not valid: use {FORMS}, with values {allowed}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSpec(f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Paris'",
                          {"field": "timezone"}) from exc
