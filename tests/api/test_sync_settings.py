"""Sync settings through GraphQL: defaults, throttle validation, audit."""

from __future__ import annotations

from typing import Any

from tests import graphql_ops as ops
from tests import sync_ops
from tests.fixtures.practice import Practice


async def update(practice: Practice, **payload: Any) -> dict[str, Any]:
    return (  # type: ignore[no-any-return]
        await practice.admin.execute(
            sync_ops.UPDATE_SYNC_SETTINGS,
            {"input": {"locationId": practice.location_id, **payload}},
        )
    )["updateSyncSettings"]


async def set_throttle(practice: Practice, seconds: float) -> None:
    sim = practice.simulator
    result = (
        await practice.admin.execute(
            ops.SET_PMS_CONNECTION,
            {
                "input": {
                    "locationId": practice.location_id,
                    "system": "OPEN_DENTAL",
                    "baseUrl": sim.base_url,
                    "developerKey": sim.developer_key,
                    "customerKey": sim.customer_key,
                    "writeIntervalSeconds": seconds,
                }
            },
        )
    )["setPmsConnection"]
    assert result["__typename"] == "SetPmsConnectionSuccess"


def all_on(status: int = 15, appointments: int = 60, patients: int = 30) -> list[dict[str, Any]]:
    return [
        {"resource": "APPOINTMENT_STATUS", "enabled": True, "intervalSeconds": status},
        {"resource": "APPOINTMENTS", "enabled": True, "intervalSeconds": appointments},
        {"resource": "PATIENTS", "enabled": True, "intervalSeconds": patients},
    ]


async def test_a_new_location_has_sync_off_at_the_default_intervals(practice: Practice) -> None:
    settings = (
        await practice.staff.execute(sync_ops.SYNC_SETTINGS, {"locationId": practice.location_id})
    )["syncSettings"]
    assert settings["version"] == 0
    assert settings["patientPhotos"] is False
    assert settings["resources"] == [
        {"resource": "APPOINTMENT_STATUS", "enabled": False, "intervalSeconds": 15},
        {"resource": "APPOINTMENTS", "enabled": False, "intervalSeconds": 60},
        {"resource": "PATIENTS", "enabled": False, "intervalSeconds": 30},
    ]


async def test_the_defaults_are_accepted_on_a_read_only_keys_throttle(practice: Practice) -> None:
    await set_throttle(practice, 5)
    result = await update(practice, resources=all_on())
    assert result["__typename"] == "UpdateSyncSettingsSuccess", result
    assert result["settings"]["version"] == 1


async def test_a_combination_the_throttle_cannot_honour_is_refused_with_a_clear_error(
    practice: Practice,
) -> None:
    await set_throttle(practice, 5)
    result = await update(practice, resources=all_on(status=5))
    assert result["__typename"] == "ValidationError"
    assert result["fields"][0]["field"] == "resources"
    assert "one request every 5 s" in result["fields"][0]["message"]
    photos = await update(practice, resources=all_on(), patientPhotos=True)
    assert photos["__typename"] == "ValidationError"


async def test_intervals_out_of_bounds_are_refused(practice: Practice) -> None:
    result = await update(
        practice, resources=[{"resource": "PATIENTS", "enabled": True, "intervalSeconds": 0}]
    )
    assert result["__typename"] == "ValidationError"
    assert result["fields"][0]["field"] == "resources.patients.intervalSeconds"


async def test_changes_are_audited_and_only_admins_make_them(practice: Practice) -> None:
    await update(practice, resources=[{"resource": "PATIENTS", "enabled": True}])
    await update(practice, patientPhotos=True)
    same = await update(practice, patientPhotos=True)
    assert same["settings"]["version"] == 2  # no change, no new version
    changes = (
        await practice.admin.execute(
            sync_ops.SYNC_SETTINGS_CHANGES, {"locationId": practice.location_id}
        )
    )["syncSettingsChanges"]
    assert [c["version"] for c in changes] == [2, 1]
    assert changes[0]["before"]["patient_photos"] is False
    assert changes[0]["after"]["patient_photos"] is True
    assert changes[1]["before"] is None
    staff = (
        await practice.staff.execute(
            sync_ops.UPDATE_SYNC_SETTINGS,
            {"input": {"locationId": practice.location_id, "patientPhotos": False}},
        )
    )["updateSyncSettings"]
    assert staff["__typename"] == "ForbiddenError"
