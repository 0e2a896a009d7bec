"""When a location's daily writeback runs: a local time of day in its IANA time zone.

Pure rules. Daylight-saving days: a run time inside the skipped hour runs when the clock
reaches it after the jump (02:30 on a spring-forward night runs at 03:30 local); a run time
inside the repeated hour runs at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def run_instant(local_date: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the run for `local_date`."""
    # fold=0 picks the first of a repeated hour; for a skipped time zoneinfo applies the
    # offset from before the jump, which lands on the same wall-clock minute after it.
    return datetime.combine(local_date, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def latest_due_run(now: datetime, at: time, zone: ZoneInfo) -> tuple[date, datetime]:
    """The most recent run that should have started by `now`: (its local date, its instant)."""
    today = now.astimezone(zone).date()
    for local_date in (today, today - timedelta(days=1)):
        instant = run_instant(local_date, at, zone)
        if instant <= now:
            return local_date, instant
    # Only reachable when the run time is after the end of a shortened day; go back further.
    yesterday = today - timedelta(days=2)
    return yesterday, run_instant(yesterday, at, zone)
