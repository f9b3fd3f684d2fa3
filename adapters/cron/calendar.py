"""CroniterCalendar: the CronCalendar port on croniter and zoneinfo (DST-aware)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from domain.types.errors import InvalidSpec


class CroniterCalendar:
    def validate(self, expression: str, timezone: str) -> None:
        _zone(timezone)
        if not croniter.is_valid(expression):
            raise InvalidSpec(f"invalid cron expression {expression!r}: use five fields, e.g. '0 3 * * 1'",
                              {"field": "cron"})

    def next_times(self, expression: str, timezone: str, after: datetime, count: int) -> list[datetime]:
        self.validate(expression, timezone)
        try:
            iterator = croniter(expression, after.astimezone(_zone(timezone)))
            return [iterator.get_next(datetime).astimezone(UTC) for _ in range(count)]
        except (CroniterBadCronError, CroniterBadDateError) as exc:
            raise InvalidSpec(f"cron expression {expression!r} never fires: {exc}", {"field": "cron"}) from exc


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSpec(f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Paris'",
                          {"field": "timezone"}) from exc
