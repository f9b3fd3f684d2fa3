"""Cron schedules computed with croniter, in IANA time zones."""
