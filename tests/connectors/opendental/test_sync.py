"""Polling Open Dental through the connector, against the simulator over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.opendental import OpenDentalConnector
from tests.fixtures.simulator import OpenDentalSimulator


async def test_changed_appointments_carry_the_flow_times_and_the_next_cursor(
    opendental_simulator: OpenDentalSimulator, connector: OpenDentalConnector
) -> None:
    state = opendental_simulator.state
    state.set_confirmation(1, "Arrived")
    today = state.today()
    batch = await connector.appointments_changed_since(None, today, today)
    by_id = {a.id: a for a in batch.rows}
    assert sorted(by_id) == ["1", "2", "3", "4"]
    assert by_id["1"].arrived_at is not None and by_id["1"].seated_at is None
    assert by_id["2"].arrived_at is None  # "0001-01-01 00:00:00" means unset
    assert by_id["2"].confirmation_label == "Unconfirmed"
    assert by_id["1"].duration_minutes == 40  # 8 pattern characters of 5 minutes
    assert batch.server_time is not None


async def test_only_rows_changed_since_the_cursor_come_back(
    opendental_simulator: OpenDentalSimulator, connector: OpenDentalConnector
) -> None:
    state = opendental_simulator.state
    future = state.now() + timedelta(hours=1)
    state.patients[2]["DateTStamp"] = future.strftime("%Y-%m-%d %H:%M:%S")
    batch = await connector.patients_changed_since(future)
    assert [p.id for p in batch.rows] == ["2"]
    assert batch.rows[0].birthdate is not None


async def test_the_patient_picture_is_the_newest_in_the_picture_category(
    opendental_simulator: OpenDentalSimulator, connector: OpenDentalConnector
) -> None:
    state = opendental_simulator.state
    state.add_patient_picture(1, b"old", taken=datetime(2024, 1, 1, 9, 0))
    state.add_patient_picture(1, b"new", taken=datetime(2025, 1, 1, 9, 0), extension=".png")
    photo = await connector.patient_photo("1")
    assert photo is not None
    assert (photo.content, photo.content_type) == (b"new", "image/png")
    assert await connector.patient_photo("2") is None
