from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.daily_schedule import latest_due_run, run_instant

CHICAGO = ZoneInfo("America/Chicago")
SYDNEY = ZoneInfo("Australia/Sydney")


def test_a_run_is_at_the_local_time_of_day_in_each_zone() -> None:
    assert run_instant(date(2026, 7, 1), time(18, 0), CHICAGO) == datetime(
        2026, 7, 1, 23, 0, tzinfo=UTC
    )
    assert run_instant(date(2026, 7, 1), time(18, 0), SYDNEY) == datetime(
        2026, 7, 1, 8, 0, tzinfo=UTC
    )


def test_the_run_moves_with_daylight_saving_time() -> None:
    # Chicago: CST (UTC-6) until 2026-03-08, CDT (UTC-5) after.
    assert run_instant(date(2026, 3, 7), time(18, 0), CHICAGO).hour == 0
    assert run_instant(date(2026, 3, 8), time(18, 0), CHICAGO).hour == 23


def test_a_run_time_in_the_skipped_hour_runs_right_after_the_jump() -> None:
    instant = run_instant(date(2026, 3, 8), time(2, 30), CHICAGO)
    assert instant.astimezone(CHICAGO).time() == time(3, 30)


def test_a_run_time_in_the_repeated_hour_runs_once_at_its_first_occurrence() -> None:
    instant = run_instant(date(2026, 11, 1), time(1, 30), CHICAGO)
    assert instant == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 CDT, not 01:30 CST


def test_before_todays_time_the_latest_due_run_is_yesterdays() -> None:
    now = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)  # 15:00 in Chicago
    assert latest_due_run(now, time(18, 0), CHICAGO)[0] == date(2026, 6, 30)
    later = datetime(2026, 7, 1, 23, 0, tzinfo=UTC)  # 18:00 in Chicago
    assert latest_due_run(later, time(18, 0), CHICAGO)[0] == date(2026, 7, 1)


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
    st.times(),
    st.sampled_from([CHICAGO, SYDNEY, ZoneInfo("Europe/London"), ZoneInfo("America/St_Johns")]),
)
def test_the_latest_due_run_has_started_and_is_within_two_days(
    now: datetime, at: time, zone: ZoneInfo
) -> None:
    moment = now.replace(tzinfo=UTC)
    _, instant = latest_due_run(moment, at.replace(tzinfo=None), zone)
    assert instant <= moment
    assert (moment - instant).total_seconds() < 2 * 86_400 + 3_600
