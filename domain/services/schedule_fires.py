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
A fire whose submission failed (no file yet, Redis away) is tried again for RETRY_FOR from its first
failure, then left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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


def settled(fire: datetime, last: Mapping[str, Any] | None, id_key: str, now: datetime) -> tuple[bool, str | None]:
    """Whether the due `fire` was dealt with already, given the record of the schedule's latest fire (its
    fire time, the id it submitted under `id_key`, None when that failed, and when it first failed):
    (True, the recorded id) for the same fire submitted before; (True, None) for a later fire recorded (a
    lagging clock) or a failed fire RETRY_FOR after its first failure; (False, None) to submit it."""
    if last is None or (last_fire := parse_iso(last["fire_time"])) < fire:
        return False, None
    recorded = last.get(id_key)
    if last_fire > fire or recorded is not None:
        return True, recorded if last_fire == fire else None
    first_failed = last.get("first_failed_at")  # records written before it was kept: from the fire time
    return now - (parse_iso(first_failed) if first_failed else fire) > RETRY_FOR, None


def failure_record(fire: datetime, id_key: str, warning: str, last: Mapping[str, Any] | None,
                   now: datetime) -> dict[str, Any]:
    """The record of a fire whose submission failed; a repeated failure keeps when the fire first failed,
    since its retries run for RETRY_FOR from then (an hours-old fire missed during an outage gets them too)."""
    same = last is not None and last.get("fire_time") == iso(fire) and last.get("first_failed_at")
    return {"fire_time": iso(fire), id_key: None, "warning": warning,
            "first_failed_at": last["first_failed_at"] if same and last is not None else iso(now)}


def worth_recording(outcome: Mapping[str, Any], last: Mapping[str, Any] | None) -> bool:
    """Whether a fire's outcome is to be written over the record `last` (read just before): a repeated
    tick changes nothing, and a later fire's outcome, written meanwhile by another worker, stays."""
    if last is None:
        return True
    return last != outcome and parse_iso(last["fire_time"]) <= parse_iso(outcome["fire_time"])


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
