"""CronCalendar port: when a cron expression fires, in an explicit time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class CronCalendar(Protocol):
    def validate(self, expression: str, timezone: str) -> None:
        """InvalidSpec naming the problem when the expression or the time zone is not valid."""
        ...

    def next_times(self, expression: str, timezone: str, after: datetime, count: int) -> list[datetime]:
        """The next `count` fire times strictly after `after`, as aware UTC datetimes."""
        ...

    def previous_time(self, expression: str, timezone: str, at: datetime) -> datetime | None:
        """The latest fire time at or before `at` (aware UTC), or None when it never fired before `at`."""
        ...
