"""Which fire time a schedule's minute tick runs (shared by retrain and ingestion schedules).

The rule: a tick at `now` runs the latest fire time that is
- after the moment the schedule's current timing took effect (`active_since`: it was created, its
  cron or time zone changed, or it was enabled again), so a new schedule never runs a fire from
  before it existed;
- within LOOKBACK of now, so fires missed while no worker ran (a restart, a deploy) still run once;
- at or before now.
Only the latest one runs: a daemon that was down for several fires of a frequent cron catches up
with one run, not a burst. Each fire's job id is derived from the fire time, so every worker and
every repeated tick that sees the same fire submits the same job, which exists once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.types.lifecycle import iso, parse_iso
from ports.calendar import CronCalendar

LOOKBACK = timedelta(minutes=10)
# Cron fires at most once a minute: this many fire times always reach past the lookback window.
_MAX_FIRES = int(LOOKBACK / timedelta(minutes=1)) + 1


def latest_due(calendar: CronCalendar, cron: str, timezone: str, now: datetime,
               active_since: datetime | None) -> datetime | None:
    """The fire time a tick at `now` runs, or None. Without `active_since` (a schedule stored before it
    was recorded) only the lookback bounds it."""
    start = now - LOOKBACK if active_since is None else max(active_since, now - LOOKBACK)
    due = [fire for fire in calendar.next_times(cron, timezone, start, _MAX_FIRES) if fire <= now]
    return due[-1] if due else None


@dataclass(frozen=True)
class Timing:
    """What decides when a schedule fires, and when that took effect."""

    cron: str
    timezone: str
    enabled: bool
    created_at: str | None = None
    active_since: str | None = None

    def since(self) -> datetime | None:
        return None if self.active_since is None else parse_iso(self.active_since)


def stamp(new: Timing, previous: Timing | None, now: datetime) -> tuple[str, str]:
    """(created_at, active_since) for `new` saved at `now` over `previous`. A save that keeps an enabled
    schedule's cron and time zone keeps its active_since (a due fire is not lost by editing other
    fields); any other save starts it now, so fires from before the change never run."""
    created = previous.created_at if previous is not None and previous.created_at else iso(now)
    if (previous is not None and previous.active_since is not None and previous.enabled and new.enabled
            and (previous.cron, previous.timezone) == (new.cron, new.timezone)):
        return created, previous.active_since
    return created, iso(now)
