from __future__ import annotations

from tests import graphql_ops as ops
from tests.fixtures.practice import Practice

SETTINGS_CHANGES = """
query($locationId: ID!) {
  paymentWritebackSettingsChanges(locationId: $locationId) {
    version changedAt changedByKeyId before after
  }
}"""


async def test_defaults_are_instant_automatic_net_with_insurance_off(practice: Practice) -> None:
    s = (await practice.staff.execute(ops.GET_SETTINGS, {"locationId": practice.location_id}))[
        "paymentWritebackSettings"
    ]
    assert (s["version"], s["timing"], s["amountBasis"]) == (0, "INSTANT", "NET")
    by_source = {r["source"]: r for r in s["sources"]}
    assert by_source["CARD_TERMINAL"] == {
        "source": "CARD_TERMINAL",
        "enabled": True,
        "mode": "AUTOMATIC",
    }
    assert by_source["INSURANCE"]["enabled"] is False


async def test_a_change_is_versioned_and_audited_with_before_and_after(practice: Practice) -> None:
    card = await practice.payment_type_id("Credit Card")
    updated = await practice.settings(
        amountBasis="GROSS", payTypes=[{"payType": card, "method": "CARD"}]
    )
    assert updated["version"] == 1
    [change] = (
        await practice.staff.execute(SETTINGS_CHANGES, {"locationId": practice.location_id})
    )["paymentWritebackSettingsChanges"]
    assert change["version"] == 1
    assert change["before"] is None
    assert change["after"]["amount_basis"] == "gross"
    assert change["changedByKeyId"]
    await practice.settings(amountBasis="NET")
    latest = (await practice.staff.execute(SETTINGS_CHANGES, {"locationId": practice.location_id}))[
        "paymentWritebackSettingsChanges"
    ][0]
    assert (latest["before"]["amount_basis"], latest["after"]["amount_basis"]) == ("gross", "net")


async def test_an_unknown_or_hidden_payment_type_is_refused_and_nothing_changes(
    practice: Practice,
) -> None:
    for pay_type in ("424242", await _hidden_payment_type(practice)):
        result = (
            await practice.admin.execute(
                ops.UPDATE_SETTINGS,
                {
                    "input": {
                        "locationId": practice.location_id,
                        "payTypes": [{"payType": pay_type}],
                    }
                },
            )
        )["updatePaymentWritebackSettings"]
        assert result["__typename"] == "ValidationError"
        assert result["fields"][0]["field"] == "payTypes[0].payType"
    s = (await practice.staff.execute(ops.GET_SETTINGS, {"locationId": practice.location_id}))[
        "paymentWritebackSettings"
    ]
    assert (s["version"], s["payTypes"]) == (0, [])


async def _hidden_payment_type(practice: Practice) -> str:
    from connectors.opendental.simulator import seed

    state = practice.simulator.state
    return str(
        next(
            d["DefNum"]
            for d in state.definitions
            if d["Category"] == seed.PAYMENT_TYPES and d["isHidden"] == "true"
        )
    )


async def test_a_bad_daily_time_is_refused(practice: Practice) -> None:
    result = (
        await practice.admin.execute(
            ops.UPDATE_SETTINGS,
            {"input": {"locationId": practice.location_id, "timing": "DAILY", "dailyTime": "7pm"}},
        )
    )["updatePaymentWritebackSettings"]
    assert result["__typename"] == "ValidationError"
    assert result["fields"] == [
        {"field": "dailyTime", "message": "must be a local time of day as HH:MM (24 h)"}
    ]


async def test_automatic_insurance_is_accepted_because_open_dental_takes_claim_payments(
    practice: Practice,
) -> None:
    result = (
        await practice.admin.execute(
            ops.UPDATE_SETTINGS,
            {
                "input": {
                    "locationId": practice.location_id,
                    "sources": [{"source": "INSURANCE", "enabled": True}],
                }
            },
        )
    )["updatePaymentWritebackSettings"]
    assert result["__typename"] == "UpdatePaymentWritebackSettingsSuccess"


async def test_a_fee_adjustment_type_must_be_an_active_pms_adjustment_type(
    practice: Practice,
) -> None:
    result = (
        await practice.admin.execute(
            ops.UPDATE_SETTINGS,
            {
                "input": {
                    "locationId": practice.location_id,
                    "amountBasis": "GROSS",
                    "feeAdjustmentType": "987654",
                }
            },
        )
    )["updatePaymentWritebackSettings"]
    assert result["__typename"] == "ValidationError"
    assert result["fields"][0]["field"] == "feeAdjustmentType"


async def test_staff_cannot_change_settings(practice: Practice) -> None:
    result = (
        await practice.staff.execute(
            ops.UPDATE_SETTINGS,
            {"input": {"locationId": practice.location_id, "amountBasis": "GROSS"}},
        )
    )["updatePaymentWritebackSettings"]
    assert result["__typename"] == "ForbiddenError"


async def test_check_connection_reports_each_working_part(practice: Practice) -> None:
    result = (
        await practice.staff.execute(ops.CHECK_CONNECTION, {"locationId": practice.location_id})
    )["checkConnection"]
    assert result["ok"] is True
    assert [c["name"] for c in result["checks"]] == ["reachable", "credentials", "paymentTypes"]


async def test_check_connection_reports_bad_credentials_with_a_hint(practice: Practice) -> None:
    practice.simulator.state.disable_customer_key(practice.simulator.customer_key)
    result = (
        await practice.staff.execute(ops.CHECK_CONNECTION, {"locationId": practice.location_id})
    )["checkConnection"]
    assert result["ok"] is False
    failed = next(c for c in result["checks"] if not c["ok"])
    assert failed["name"] == "credentials"
    assert failed["hint"]


async def test_concurrent_changes_each_get_their_own_version(practice: Practice) -> None:
    import asyncio

    bases = ["GROSS", "NET"] * 3
    results = await asyncio.gather(
        *(
            practice.admin.execute(
                ops.UPDATE_SETTINGS,
                {"input": {"locationId": practice.location_id, "amountBasis": b}},
            )
            for b in bases
        )
    )
    assert {r["updatePaymentWritebackSettings"]["__typename"] for r in results} == {
        "UpdatePaymentWritebackSettingsSuccess"
    }
    changes = (
        await practice.staff.execute(SETTINGS_CHANGES, {"locationId": practice.location_id})
    )["paymentWritebackSettingsChanges"]
    versions = [c["version"] for c in changes]
    assert versions == sorted(set(versions), reverse=True)
    # Each audit row's "before" is the previous row's "after": no change was lost.
    for newer, older in zip(changes, changes[1:], strict=False):
        assert newer["before"] == older["after"]


async def test_the_dry_run_checks_every_part_and_writes_nothing(practice: Practice) -> None:
    card = await practice.payment_type_id("Credit Card")
    await practice.settings(payTypes=[{"payType": card, "method": "CARD"}])
    result = (
        await practice.staff.execute(
            ops.TEST_PAYMENT_WRITEBACK, {"locationId": practice.location_id, "patientRef": "1"}
        )
    )["testPaymentWriteback"]
    assert result["ok"] is True, result
    assert [c["name"] for c in result["checks"]] == [
        "reachable",
        "credentials",
        "paymentTypes",
        "mappedPaymentTypes",
        "providers",
        "patientLookup",
        "sources",
    ]
    assert sum(practice.simulator.state.post_counts().values()) == 0


async def test_the_dry_run_points_at_what_to_fix(practice: Practice) -> None:
    card = await practice.payment_type_id("Credit Card")
    await practice.settings(payTypes=[{"payType": card}])
    for row in practice.simulator.state.definitions:
        if str(row["DefNum"]) == card:
            row["isHidden"] = "true"
    result = (
        await practice.staff.execute(
            ops.TEST_PAYMENT_WRITEBACK, {"locationId": practice.location_id, "patientRef": "4242"}
        )
    )["testPaymentWriteback"]
    failed = {c["name"]: c for c in result["checks"] if not c["ok"]}
    assert set(failed) == {"mappedPaymentTypes", "patientLookup"}
    assert all(c["hint"] for c in failed.values())
