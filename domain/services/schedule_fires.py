"""Which fire time a schedule's minute tick runs (shared by retrain and ingestion schedules).

The rule: a tick at `now` runs the latest fire time at or before now, if it is
- after the moment the schedule's current timing took effect (`active_since`: it was created, its
  cron or time zone changed, or it was enabled again), so a new schedule never runs a fire from
  before it existed (a schedule stored before that was recorded looks back LOOKBACK only);
- not a fire already dealt with, by the record of the schedule's latest fire (`settled`).
So fires missed while no worker ran (a restart, a deploy: however long) run once, the latest of
them: a weekly retrain due during a deploy runs when the workers are back, not a week later, and
a daemon that was down for several fires of a frequent cron catches up with one run, not a burst.
Each fire's job id is derived from the fire time, so every worker and every repeated tick that
sees the same fire submits the same job, which exists once; the record keeps a fire from running
again after its job record expired, and a worker whose clock lags from running an older fire.
A fire whose submission failed (no file yet, Redis away) is tried again for RETRY_FOR, then left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.types.lifecycle import iso, parse_iso
from ports.calendar import CronCalendar

LOOKBACK = timedelta(minutes=10)
RETRY_FOR = timedelta(minutes=10)


def latest_due(calendar: CronCalendar, cron: str, timezone: str, now: datetime,
               active_since: datetime | None) -> datetime | None:
    """The fire time a tick at `now` is due to run, or None (before `settled` checks the record)."""
    fire = calendar.previous_time(cron, timezone, now)
    floor = now - LOOKBACK if active_since is None else active_since
    return fire if fire is not None and fire > floor else None


def settled(fire: datetime, last_fire: datetime | None, last_id: str | None, now: datetime) -> tuple[bool, str | None]:
    """Whether the due `fire` was dealt with already, given the schedule's latest fire record (its fire
    time and the id it submitted, None when that failed): (True, the recorded id) for the same fire
    submitted before; (True, None) for a later fire recorded (a lagging clock) or a failed fire past
    its retries; (False, None) when it is to be submitted."""
    if last_fire is None or last_fire < fire:
        return False, None
    if last_fire > fire or last_id is not None:
        return True, last_id if last_fire == fire else None
    return now - fire > RETRY_FOR, None


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
