from datetime import datetime

from domain.sync_schedule import (
    BACKOFF_CAP_SECONDS,
    FlowFacts,
    FlowStatus,
    backoff_seconds,
    flow_status,
    next_grid_point,
    parse_member,
    phase_ms,
    schedule_member,
)
from domain.sync_settings import SyncResource

AT = datetime(2026, 11, 23, 9, 5)


def facts(status: str = "Scheduled", label: str | None = None, **times: datetime) -> FlowFacts:
    return FlowFacts(
        status, label, times.get("arrived"), times.get("seated"), times.get("dismissed")
    )


def test_the_next_poll_is_the_next_grid_point_whatever_the_poll_took() -> None:
    assert next_grid_point(10_000, 15_000, 4_000) == 19_000
    assert next_grid_point(18_999, 15_000, 4_000) == 19_000
    assert next_grid_point(19_000, 15_000, 4_000) == 34_000
    # Late by several intervals: the missed ticks are skipped, the grid is kept.
    assert next_grid_point(100_000, 15_000, 4_000) == 109_000


def test_phases_are_deterministic_and_spread_over_the_interval() -> None:
    phases = [phase_ms(f"loc-{n}", SyncResource.PATIENTS, 30_000) for n in range(1000)]
    assert phases == [phase_ms(f"loc-{n}", SyncResource.PATIENTS, 30_000) for n in range(1000)]
    assert all(0 <= p < 30_000 for p in phases)
    seconds = {p // 1000 for p in phases}
    assert len(seconds) == 30  # every second of the interval gets some locations


def test_backoff_grows_is_capped_and_never_shorter_than_the_interval() -> None:
    assert [backoff_seconds(n, 1) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert backoff_seconds(50, 1) == BACKOFF_CAP_SECONDS
    assert backoff_seconds(1, 60) == 60.0


def test_schedule_members_name_location_and_resource() -> None:
    member = schedule_member("a:b", SyncResource.APPOINTMENT_STATUS)
    assert parse_member(member) == ("a:b", SyncResource.APPOINTMENT_STATUS)


def test_flow_follows_the_patient_through_the_office() -> None:
    assert flow_status(facts()) is FlowStatus.SCHEDULED
    assert flow_status(facts(label="Appointment Confirmed")) is FlowStatus.CONFIRMED
    assert flow_status(facts(label="Unconfirmed")) is FlowStatus.SCHEDULED
    assert flow_status(facts(arrived=AT)) is FlowStatus.ARRIVED
    assert flow_status(facts(arrived=AT, seated=AT)) is FlowStatus.SEATED
    assert flow_status(facts(arrived=AT, seated=AT, dismissed=AT)) is FlowStatus.DISMISSED
    assert flow_status(facts("Complete")) is FlowStatus.COMPLETE
    assert flow_status(facts("Broken", arrived=AT)) is FlowStatus.BROKEN
    assert flow_status(facts("UnschedList")) is FlowStatus.UNSCHEDULED
