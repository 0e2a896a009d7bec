"""The PMS's own lists for a settings screen, read from the PMS and cached briefly."""

from __future__ import annotations

from typing import Any

from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, setup_practice
from tests.fixtures.stack import ClientFactory


async def options(practice: Practice) -> dict[str, Any]:
    result: dict[str, Any] = (
        await practice.staff.execute(ops.PMS_OPTIONS, {"locationId": practice.location_id})
    )["pmsOptions"]
    return result


async def test_every_list_comes_from_the_pms_without_hidden_entries(practice: Practice) -> None:
    lists = await options(practice)
    state = practice.simulator.state
    hidden = {str(d["DefNum"]) for d in state.definitions if d["isHidden"] == "true"}
    for name in ("paymentTypes", "noteTypes", "documentCategories", "adjustmentTypes"):
        assert lists[name], name
        assert not {e["id"] for e in lists[name]} & hidden, name
    assert {"TEXT", "APPT"} <= {e["usage"] for e in lists["noteTypes"]}
    assert any("P" in (e["usage"] or "") for e in lists["documentCategories"])
    assert {e["sign"] for e in lists["adjustmentTypes"]} == {"+", "-"}
    visible_providers = [p for p in state.providers if p["IsHidden"] == "false"]
    assert len(lists["providers"]) <= len(visible_providers)


async def test_a_second_read_within_a_minute_is_answered_without_asking_the_pms(
    practice: Practice,
) -> None:
    first = await options(practice)
    practice.simulator.state.faults.throttle_calls(count=50, retry_after=30)
    second = await options(practice)
    assert second == first


async def test_a_new_connection_is_not_answered_from_the_old_ones_cache(practice: Practice) -> None:
    await options(practice)
    practice.simulator.state.faults.throttle_calls(count=50, retry_after=30)
    await practice.admin.execute(
        ops.SET_PMS_CONNECTION,
        {
            "input": {
                "locationId": practice.location_id,
                "system": "OPEN_DENTAL",
                "baseUrl": practice.simulator.base_url,
                "developerKey": practice.simulator.developer_key,
                "customerKey": practice.simulator.customer_key,
                "writeIntervalSeconds": 0,
            }
        },
    )
    errors = await practice.staff.errors(ops.PMS_OPTIONS, {"locationId": practice.location_id})
    assert errors and "could not read the PMS's lists" in errors[0]["message"]


async def test_another_organization_cannot_read_a_locations_pms_lists(
    practice: Practice, container: Any, client_for: ClientFactory
) -> None:
    other = await setup_practice(container, client_for, practice.simulator, "Elsewhere")
    errors = await other.staff.errors(ops.PMS_OPTIONS, {"locationId": practice.location_id})
    assert errors[0]["message"] == "no such location"
