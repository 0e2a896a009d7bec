"""OpenDentalConnector beyond plain payments, over real HTTP against the simulator:
payment plans, adjustments, refunds and insurance payments on claims."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from connectors.opendental import OpenDentalConnector
from connectors.opendental.mapping import HINT_CLAIM
from connectors.opendental.simulator import SimulatorState
from domain.ports import (
    AdjustmentPosting,
    InsurancePaymentPosting,
    OutcomeUnknownError,
    PaymentPosting,
    PermanentError,
    PmsOption,
    RefundPosting,
)
from tests.fixtures.simulator import OpenDentalSimulator

MARKER = "0123456789abcdef"
REFUND_MARKER = "fedcba9876543210"
CLAIM_MARKER = "00112233aabbccdd"
PATIENT = "1"
# Seeded by the simulator's demo practice: an open dynamic plan of patient 2.
SEEDED_PLAN_OF_PATIENT_2 = "1"
TODAY = date.today()


def payment(**changes: object) -> PaymentPosting:
    base = PaymentPosting(
        patient_ref=PATIENT,
        amount=Decimal("123.45"),
        pay_date=TODAY,
        note=f"[WB:{MARKER}] card_terminal/card gross 127.50 fee 4.05 net 123.45",
        marker=MARKER,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refund_of(record_id: str, **changes: object) -> RefundPosting:
    base = RefundPosting(
        patient_ref=PATIENT,
        original_record_id=record_id,
        marker=REFUND_MARKER,
        note=f"[WB:{REFUND_MARKER}] refund ref re_1 of [WB:{MARKER}]",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def insurance(claim_num: int, **changes: object) -> InsurancePaymentPosting:
    base = InsurancePaymentPosting(
        patient_ref=PATIENT,
        claim_ref=str(claim_num),
        amount=Decimal("100.00"),
        pay_date=TODAY,
        note=f"[WB:{CLAIM_MARKER}] insurance/check ref ins_1 gross 100.00 fee 0.00 net 100.00",
        marker=CLAIM_MARKER,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _state(sim: OpenDentalSimulator) -> SimulatorState:
    return sim.state


class TestPaymentPlans:
    async def test_payment_on_an_open_plan_is_attached_to_it(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        plan = state.add_payplan(1)

        record = await connector.post_payment(payment(payment_plan_ref=str(plan)))

        splits = state.splits_of(int(record.record_id))
        assert [s["PayPlanNum"] for s in splits] == [plan]
        assert sum(s["SplitAmt"] for s in splits) == Decimal("123.45")

    async def test_payment_on_a_closed_plan_is_refused_with_a_plan_hint_before_posting(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        plan = state.add_payplan(1, is_closed=True)

        with pytest.raises(PermanentError) as caught:
            await connector.post_payment(payment(payment_plan_ref=str(plan)))

        assert "closed" in caught.value.message
        assert "Check the payment plan in Open Dental" in caught.value.hint
        assert "closed" in caught.value.hint
        assert state.post_count("payments") == 0

    async def test_payment_on_another_patients_plan_is_refused(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        with pytest.raises(PermanentError) as caught:
            await connector.post_payment(payment(payment_plan_ref=SEEDED_PLAN_OF_PATIENT_2))

        assert "payment plan" in caught.value.hint
        assert _state(opendental_simulator).payments == []

    async def test_payment_on_an_old_style_plan_is_refused(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        plan = _state(opendental_simulator).add_payplan(1, is_dynamic=False)

        with pytest.raises(PermanentError) as caught:
            await connector.post_payment(payment(payment_plan_ref=str(plan)))

        assert "dynamic" in caught.value.message

    async def test_non_numeric_plan_reference_is_refused_before_sending(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        with pytest.raises(PermanentError):
            await connector.post_payment(payment(payment_plan_ref="plan-7"))

        assert _state(opendental_simulator).post_count("payments") == 0


class TestAdjustments:
    async def _type(self, connector: OpenDentalConnector, name: str) -> PmsOption:
        return next(t for t in await connector.list_adjustment_types() if t.name == name)

    async def test_adjustment_types_carry_their_sign_and_exclude_hidden_ones(
        self, connector: OpenDentalConnector
    ) -> None:
        types = await connector.list_adjustment_types()

        signs = {t.name: t.extra["sign"] for t in types}
        assert signs["Processing Fee Credit"] == "-" and signs["Finance Charge"] == "+"
        assert "Old Courtesy Discount" not in signs
        hidden = await connector.list_adjustment_types(include_hidden=True)
        assert any(t.hidden for t in hidden)

    async def test_adjustment_with_the_types_sign_posts_exactly_and_is_found_by_marker(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        fee_type = await self._type(connector, "Processing Fee Credit")
        fee_marker = f"{MARKER}:fee"
        posting = AdjustmentPosting(
            patient_ref=PATIENT,
            amount=Decimal("-4.05"),
            adj_date=TODAY,
            adj_type=fee_type.id,
            note=f"[WB:{fee_marker}] card fee 4.05 for payment ref pay_1",
            marker=fee_marker,
        )

        record = await connector.post_adjustment(posting)

        rows = _state(opendental_simulator).adjustments
        assert len(rows) == 1 and rows[0]["AdjAmt"] == Decimal("-4.05")
        assert rows[0]["AdjType"] == int(fee_type.id) and rows[0]["AdjNote"] == posting.note
        assert record.record_id == str(rows[0]["AdjNum"]) and record.amount == Decimal("-4.05")
        assert await connector.find_adjustment(PATIENT, fee_marker, TODAY) == record

    async def test_find_adjustment_does_not_take_a_fee_marker_for_the_payments_marker(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        fee_type = await self._type(connector, "Processing Fee Credit")
        _state(opendental_simulator).add_adjustment(
            1, int(fee_type.id), Decimal("-4.05"), adj_note=f"[WB:{MARKER}:fee] card fee"
        )

        assert await connector.find_adjustment(PATIENT, MARKER, TODAY) is None

    async def test_find_adjustment_ignores_adjustments_before_the_date(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        fee_type = await self._type(connector, "Processing Fee Credit")
        old = _state(opendental_simulator).add_adjustment(
            1, int(fee_type.id), Decimal("-1.00"), adj_note=f"[WB:{MARKER}]"
        )
        old["AdjDate"] = old["DateEntry"] = (TODAY - timedelta(days=5)).isoformat()

        assert await connector.find_adjustment(PATIENT, MARKER, TODAY) is None

    async def test_adjustment_with_the_wrong_sign_is_a_permanent_error_with_a_sign_hint(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        fee_type = await self._type(connector, "Processing Fee Credit")  # a "-" type
        posting = AdjustmentPosting(
            patient_ref=PATIENT,
            amount=Decimal("4.05"),
            adj_date=TODAY,
            adj_type=fee_type.id,
            note=f"[WB:{MARKER}:fee] card fee for Avery",
            marker=f"{MARKER}:fee",
        )

        with pytest.raises(PermanentError) as caught:
            await connector.post_adjustment(posting)

        assert "HTTP 400" in caught.value.message and "AdjAmt" in caught.value.message
        assert "sign" in caught.value.hint
        assert "Avery" not in caught.value.message
        assert _state(opendental_simulator).adjustments == []


class TestRefunds:
    async def test_refund_creates_one_negative_payment_found_by_its_marker(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        original = await connector.post_payment(payment())

        record = await connector.refund_payment(refund_of(original.record_id))

        refunds = state.refunds_of(int(original.record_id))
        assert len(refunds) == 1
        assert refunds[0]["PayAmt"] == Decimal("-123.45")
        assert refunds[0]["PayNote"] == refund_of(original.record_id).note
        assert record.record_id == str(refunds[0]["PayNum"])
        assert record.amount == Decimal("-123.45")
        assert await connector.find_refund(refund_of(original.record_id), TODAY) == record

    async def test_find_payment_still_finds_the_original_after_its_refund(
        self, connector: OpenDentalConnector
    ) -> None:
        original = await connector.post_payment(payment())
        await connector.refund_payment(refund_of(original.record_id))

        assert await connector.find_payment(PATIENT, MARKER, TODAY) == original

    async def test_second_refund_of_the_same_payment_is_refused_with_a_hint(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        original = await connector.post_payment(payment())
        await connector.refund_payment(refund_of(original.record_id))

        with pytest.raises(PermanentError) as caught:
            await connector.refund_payment(refund_of(original.record_id, marker="1111222233334444"))

        assert "HTTP 400" in caught.value.message
        assert "by hand" in caught.value.hint
        assert len(_state(opendental_simulator).refunds_of(int(original.record_id))) == 1

    async def test_refund_whose_note_update_failed_is_outcome_unknown_and_still_found(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        original = await connector.post_payment(payment())
        state.faults.fail_writes_before_commit(count=1, after=1)  # Refund lands, PUT fails

        with pytest.raises(OutcomeUnknownError):
            await connector.refund_payment(refund_of(original.record_id))

        [refund] = state.refunds_of(int(original.record_id))
        assert refund["PayNote"] == payment().note  # still Open Dental's copy of the original's
        found = await connector.find_refund(refund_of(original.record_id), TODAY)
        assert found is not None and found.record_id == str(refund["PayNum"])
        assert found.amount == Decimal("-123.45")

    async def test_find_refund_does_not_take_an_unrelated_negative_payment(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        original = await connector.post_payment(payment())
        state.add_payment(1, Decimal("-20.00"), pay_note=payment().note)
        state.add_payment(1, Decimal("-123.45"), pay_note="returned check")

        assert await connector.find_refund(refund_of(original.record_id), TODAY) is None

    async def test_payment_attached_to_a_plan_cannot_be_refunded(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        plan = state.add_payplan(1)
        original = await connector.post_payment(payment(payment_plan_ref=str(plan)))

        with pytest.raises(PermanentError) as caught:
            await connector.refund_payment(refund_of(original.record_id))

        assert "payment plan" in caught.value.hint and "by hand" in caught.value.hint
        assert state.post_count("payments/Refund") == 1
        assert state.refunds_of(int(original.record_id)) == []

    async def test_refund_of_another_patients_payment_is_refused_before_sending(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        theirs = state.add_payment(2, Decimal("40.00"))

        with pytest.raises(PermanentError):
            await connector.refund_payment(refund_of(str(theirs["PayNum"])))

        assert state.post_count("payments/Refund") == 0

    async def test_get_payment_returns_the_amount_and_date_or_none(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        for _ in range(120):
            state.add_payment(1, Decimal("1.00"))
        row = state.add_payment(1, Decimal("77.70"), pay_date=TODAY - timedelta(days=2))

        found = await connector.get_payment(PATIENT, str(row["PayNum"]))

        assert found is not None and found.amount == Decimal("77.70")
        assert found.pay_date == TODAY - timedelta(days=2)
        assert await connector.get_payment("2", str(row["PayNum"])) is None
        assert await connector.get_payment(PATIENT, "99999") is None
        assert await connector.get_payment(PATIENT, "not-a-paynum") is None


class TestInsurancePayments:
    async def test_insurance_payment_posts_a_check_equal_to_the_distributed_inspayamt(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("52.00"), Decimal("88.00")])

        record = await connector.post_insurance_payment(insurance(claim))

        procs = state.claimprocs_of(claim)
        # 100.00 split 52:88 -> 37.142.. and 62.857..; the leftover cent goes to the larger
        # remainder.
        assert [p["InsPayAmt"] for p in procs] == [Decimal("37.14"), Decimal("62.86")]
        assert {p["Status"] for p in procs} == {"Received"}
        [check] = state.claimpayments
        assert check["CheckAmt"] == Decimal("100.00") == sum(p["InsPayAmt"] for p in procs)
        assert {p["ClaimPaymentNum"] for p in procs} == {check["ClaimPaymentNum"]}
        assert check["Note"] == insurance(claim).note and check["payType"] == "Check"
        assert state.claim(claim)["ClaimStatus"] == "R"  # type: ignore[index]
        assert record.record_id == str(check["ClaimPaymentNum"])
        assert record.amount == Decimal("100.00") and record.pay_date == TODAY
        assert await connector.find_insurance_payment(insurance(claim), TODAY) == record

    async def test_retry_after_a_failure_between_steps_doubles_nothing(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("52.00"), Decimal("88.00")])
        # Writes: PUT claimproc, PUT claimproc, PUT claim, POST claimpayment. Fail the third.
        state.faults.fail_writes_before_commit(count=1, after=2)

        with pytest.raises(OutcomeUnknownError):
            await connector.post_insurance_payment(insurance(claim))
        assert await connector.find_insurance_payment(insurance(claim), TODAY) is None
        record = await connector.post_insurance_payment(insurance(claim))

        assert state.put_count("claimprocs") == 2  # the retry did not receive them again
        assert [p["InsPayAmt"] for p in state.claimprocs_of(claim)] == [
            Decimal("37.14"),
            Decimal("62.86"),
        ]
        assert len(state.claimpayments) == 1
        assert record.record_id == str(state.claimpayments[0]["ClaimPaymentNum"])

    async def test_lost_answer_of_the_final_step_is_found_by_marker_and_not_redone(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("52.00"), Decimal("88.00")])
        state.faults.fail_writes_after_commit(count=1, after=3)  # the claim payment's answer

        with pytest.raises(OutcomeUnknownError):
            await connector.post_insurance_payment(insurance(claim))
        found = await connector.find_insurance_payment(insurance(claim), TODAY)

        assert found is not None and found.amount == Decimal("100.00")
        assert len(state.claimpayments) == 1

    async def test_failure_before_any_write_leaves_the_claim_untouched(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("52.00"), Decimal("88.00")])
        state.faults.fail_writes_before_commit(count=1)

        with pytest.raises(OutcomeUnknownError):
            await connector.post_insurance_payment(insurance(claim))

        assert {p["Status"] for p in state.claimprocs_of(claim)} == {"NotReceived"}
        await connector.post_insurance_payment(insurance(claim))
        assert len(state.claimpayments) == 1

    async def test_unknown_claim_is_refused_with_a_staff_hint(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        with pytest.raises(PermanentError) as caught:
            await connector.post_insurance_payment(insurance(9999))

        assert caught.value.hint == HINT_CLAIM
        assert "does not exist" in caught.value.message
        state = _state(opendental_simulator)
        assert state.put_counts() == {} and state.post_count("claimpayments") == 0

    async def test_claim_of_another_patient_is_refused(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        claim = _state(opendental_simulator).add_claim(2, [Decimal("50.00")])

        with pytest.raises(PermanentError) as caught:
            await connector.post_insurance_payment(insurance(claim))

        assert "another patient" in caught.value.message and caught.value.hint == HINT_CLAIM
        assert _state(opendental_simulator).put_counts() == {}

    async def test_already_paid_claim_is_refused(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        claim = _state(opendental_simulator).add_claim(1, [Decimal("100.00")])
        await connector.post_insurance_payment(insurance(claim))

        with pytest.raises(PermanentError) as caught:
            await connector.post_insurance_payment(insurance(claim, marker="9999888877776666"))

        assert "already be paid" in caught.value.message and caught.value.hint == HINT_CLAIM
        assert len(_state(opendental_simulator).claimpayments) == 1

    async def test_payment_above_the_billed_fees_is_refused_before_any_write(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("40.00")], fees=[Decimal("60.00")])

        with pytest.raises(PermanentError) as caught:
            await connector.post_insurance_payment(insurance(claim, amount=Decimal("60.01")))

        assert "more than the fees billed" in caught.value.message
        assert state.put_counts() == {}

    async def test_payment_above_the_estimates_is_split_by_the_fees_billed(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(
            1, [Decimal("10.00"), Decimal("10.00")], fees=[Decimal("100.00"), Decimal("300.00")]
        )

        await connector.post_insurance_payment(insurance(claim, amount=Decimal("200.00")))

        amounts = [p["InsPayAmt"] for p in state.claimprocs_of(claim)]
        assert amounts == [Decimal("50.00"), Decimal("150.00")]

    async def test_refusal_after_the_claim_was_received_says_what_is_left_to_finish(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("100.00")])
        state.claim_payment_batch_only = True  # Open Dental then refuses ClaimPayments POST

        with pytest.raises(PermanentError) as caught:
            await connector.post_insurance_payment(insurance(claim))

        assert "already marked received" in caught.value.message
        assert caught.value.hint == HINT_CLAIM
        assert state.claimprocs_of(claim)[0]["Status"] == "Received"

    async def test_claim_received_with_other_amounts_is_refused(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        claim = state.add_claim(1, [Decimal("50.00"), Decimal("50.00")])
        first = state.claimprocs_of(claim)[0]
        first.update(Status="Received", InsPayAmt=Decimal("12.00"))  # staff's work in progress

        with pytest.raises(PermanentError) as caught:
            await connector.post_insurance_payment(insurance(claim))

        assert "other amounts" in caught.value.message
        assert state.claimprocs_of(claim)[1]["Status"] == "NotReceived"

    async def test_amount_with_fractions_of_a_cent_is_refused_before_any_call(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        claim = _state(opendental_simulator).add_claim(1, [Decimal("100.00")])

        with pytest.raises(PermanentError):
            await connector.post_insurance_payment(insurance(claim, amount=Decimal("10.005")))

        assert _state(opendental_simulator).put_counts() == {}
