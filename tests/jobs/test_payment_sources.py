"""Every payment source as Open Dental can take it: fees, plans, insurance, refunds."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from tests import graphql_ops as ops
from tests.fixtures.practice import Practice

pytestmark = pytest.mark.usefixtures("worker")


def rows_with(rows: list[dict[str, Any]], note_field: str, marker: str) -> list[dict[str, Any]]:
    return [r for r in rows if f"[WB:{marker}" in str(r.get(note_field, ""))]


async def fee_adjustment_type(practice: Practice, sign: str = "-") -> str:
    types = (
        await practice.staff.execute(ops.ADJUSTMENT_TYPES, {"locationId": practice.location_id})
    )["pmsAdjustmentTypes"]
    return str(next(t["id"] for t in types if t["sign"] == sign))


async def test_gross_with_fees_reconciled_writes_the_payment_and_the_fee_adjustment(
    practice: Practice, opendental_simulator: Any
) -> None:
    await practice.settings(
        amountBasis="GROSS", feeAdjustmentType=await fee_adjustment_type(practice)
    )
    submitted = await practice.submit(
        grossAmount="200.00", fee="5.90", cardBrand="Visa", cardLast4="4242"
    )
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    [payment] = rows_with(opendental_simulator.state.payments, "PayNote", done["marker"])
    [adjustment] = rows_with(opendental_simulator.state.adjustments, "AdjNote", done["marker"])
    assert payment["PayAmt"] == Decimal("200.00")
    assert adjustment["AdjAmt"] == Decimal("-5.90")
    assert "Visa *4242" in payment["PayNote"] and "ref " + done["sourceId"] in payment["PayNote"]
    parts = (await practice.staff.execute(ops.WRITEBACK_PARTS, {"id": done["id"]}))["writeback"][
        "postedParts"
    ]
    assert set(parts) == {"payment", "fee_adjustment"}


async def test_a_fee_adjustment_that_fails_for_good_leaves_the_payment_partial_with_an_alert(
    practice: Practice, opendental_simulator: Any
) -> None:
    adj_type = await fee_adjustment_type(practice)
    await practice.settings(amountBasis="GROSS", feeAdjustmentType=adj_type)
    # The practice hides the adjustment type after choosing it: the PMS refuses the fee.
    for row in opendental_simulator.state.definitions:
        if str(row["DefNum"]) == adj_type:
            row["isHidden"] = "true"
            row["ItemValue"] = "+"
    submitted = await practice.submit(grossAmount="80.00", fee="2.40")
    done = await practice.wait_for_status(submitted["writeback"]["id"], "PARTIAL", "SUCCEEDED")
    assert done["status"] == "PARTIAL"
    assert "only part was written (payment)" in done["failureReason"]
    assert len(rows_with(opendental_simulator.state.payments, "PayNote", done["marker"])) == 1
    assert rows_with(opendental_simulator.state.adjustments, "AdjNote", done["marker"]) == []
    notes = (
        await practice.staff.execute(
            ops.NOTIFICATIONS, {"locationId": practice.location_id, "unacknowledgedOnly": True}
        )
    )["notifications"]
    assert any(n["writebackId"] == done["id"] for n in notes)

    # Fixed in the PMS, then retried: only the missing fee is written.
    for row in opendental_simulator.state.definitions:
        if str(row["DefNum"]) == adj_type:
            row["isHidden"] = "false"
            row["ItemValue"] = "-"
    await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": done["id"]})
    await practice.wait_for_status(done["id"], "SUCCEEDED")
    assert len(rows_with(opendental_simulator.state.payments, "PayNote", done["marker"])) == 1
    assert len(rows_with(opendental_simulator.state.adjustments, "AdjNote", done["marker"])) == 1


async def test_a_payment_plan_payment_is_attached_to_its_plan(
    practice: Practice, opendental_simulator: Any
) -> None:
    plan = opendental_simulator.state.add_payplan(1)
    submitted = await practice.submit(source="PAYMENT_PLAN", paymentPlanRef=str(plan))
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    [payment] = rows_with(opendental_simulator.state.payments, "PayNote", done["marker"])
    splits = [
        sp for sp in opendental_simulator.state.paysplits if sp["PayNum"] == payment["PayNum"]
    ]
    assert splits and {sp["PayPlanNum"] for sp in splits} == {plan}


async def test_an_insurance_payment_is_posted_on_its_claim(
    practice: Practice, opendental_simulator: Any
) -> None:
    await practice.settings(sources=[{"source": "INSURANCE", "enabled": True, "mode": "AUTOMATIC"}])
    claim = opendental_simulator.state.add_claim(1, amounts=[Decimal("60.00"), Decimal("40.00")])
    submitted = await practice.submit(
        source="INSURANCE", method="CHECK", grossAmount="100.00", fee="0", claimRef=str(claim)
    )
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    assert opendental_simulator.state.payments == []
    assert any(
        done["marker"] in str(c.get("Note", "")) for c in opendental_simulator.state.claimpayments
    )


async def test_an_insurance_payment_without_its_claim_is_refused_at_submission(
    practice: Practice,
) -> None:
    await practice.settings(sources=[{"source": "INSURANCE", "enabled": True, "mode": "AUTOMATIC"}])
    result = await practice.submit(source="INSURANCE", method="CHECK")
    assert result["__typename"] == "ValidationError"
    assert result["fields"][0]["field"] == "claimRef"


async def test_a_refund_takes_back_the_whole_payment_once(
    practice: Practice, opendental_simulator: Any
) -> None:
    paid = await practice.submit(paymentId="to-refund", grossAmount="50.00", fee="1.50")
    await practice.wait_for_status(paid["writeback"]["id"], "SUCCEEDED")
    refund_input = {
        "refundId": "refund-1",
        "locationId": practice.location_id,
        "paymentId": "to-refund",
    }
    refund = (await practice.staff.execute(ops.SUBMIT_REFUND, {"input": refund_input}))[
        "submitRefund"
    ]
    assert refund["__typename"] == "SubmitPaymentSuccess", refund
    assert refund["writeback"]["refund"]["amount"] == "-48.50"
    done = await practice.wait_for_status(refund["writeback"]["id"], "SUCCEEDED")
    [negative] = rows_with(opendental_simulator.state.payments, "PayNote", done["marker"])
    assert negative["PayAmt"] == Decimal("-48.50")

    again = (await practice.staff.execute(ops.SUBMIT_REFUND, {"input": refund_input}))[
        "submitRefund"
    ]
    assert again["replayed"] is True
    second = {**refund_input, "refundId": "refund-2"}
    refused = (await practice.staff.execute(ops.SUBMIT_REFUND, {"input": second}))["submitRefund"]
    assert refused["__typename"] == "ConflictError"


async def test_two_refunds_of_one_payment_at_the_same_instant_make_one_refund(
    practice: Practice, opendental_simulator: Any
) -> None:
    paid = await practice.submit(paymentId="refund-race", grossAmount="30.00", fee="0")
    await practice.wait_for_status(paid["writeback"]["id"], "SUCCEEDED")
    inputs = [
        {"refundId": f"race-{i}", "locationId": practice.location_id, "paymentId": "refund-race"}
        for i in range(4)
    ]
    results = await asyncio.gather(
        *(practice.staff.execute(ops.SUBMIT_REFUND, {"input": i}) for i in inputs)
    )
    kinds = sorted(r["submitRefund"]["__typename"] for r in results)
    assert kinds == ["ConflictError"] * 3 + ["SubmitPaymentSuccess"]
    [won] = [r["submitRefund"] for r in results if "writeback" in r["submitRefund"]]
    await practice.wait_for_status(won["writeback"]["id"], "SUCCEEDED")
    assert len([p for p in opendental_simulator.state.payments if p["PayAmt"] < 0]) == 1


async def test_a_payment_not_yet_in_the_pms_cannot_be_refunded(practice: Practice) -> None:
    await practice.settings(timing="DAILY")
    await practice.submit(paymentId="waiting")
    refund_input = {"refundId": "r", "locationId": practice.location_id, "paymentId": "waiting"}
    refused = (await practice.staff.execute(ops.SUBMIT_REFUND, {"input": refund_input}))[
        "submitRefund"
    ]
    assert refused["__typename"] == "InvalidStateError"
