"""The simulator's payment plans, paysplits, refunds, payment updates and claim payments
behave like Open Dental's documented API, over real HTTP."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.opendental.simulator import SimulatorState
from tests.fixtures.simulator import OpenDentalSimulator

TODAY = date.today().isoformat()


def _json(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


async def _post(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    # Amounts go out as JSON numbers with their exact digits, as the connector sends them.
    return await api.post(path, content=_dumps(body))


async def _put(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await api.put(path, content=_dumps(body))


def _dumps(body: dict[str, Any]) -> str:
    parts = [
        f"{json.dumps(k)}:{format(v, 'f') if isinstance(v, Decimal) else json.dumps(v)}"
        for k, v in body.items()
    ]
    return "{" + ",".join(parts) + "}"


def _state(sim: OpenDentalSimulator) -> SimulatorState:
    return sim.state


class TestPayPlans:
    async def test_list_needs_patnum_or_guarantor(self, api: httpx.AsyncClient) -> None:
        assert (await api.get("/payplans")).status_code == 400
        assert (await api.get("/payplans", params={"PatNum": 9999})).status_code == 404

    async def test_seeded_open_dynamic_plan_is_listed_with_open_dental_fields(
        self, api: httpx.AsyncClient
    ) -> None:
        [plan] = _json(await api.get("/payplans", params={"PatNum": 2}))

        assert plan["IsClosed"] == "false" and plan["IsDynamic"] == "true"
        assert plan["Guarantor"] == 2 and plan["PayAmt"] == Decimal("50.00")
        assert {"PayPlanNum", "PayPlanDate", "APR", "principalAmount", "serverDateTime"} <= set(
            plan
        )
        by_guarantor = _json(await api.get("/payplans", params={"Guarantor": 2}))
        assert [p["PayPlanNum"] for p in by_guarantor] == [plan["PayPlanNum"]]

    async def test_payment_with_payplannum_records_the_plan_on_its_split(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        response = await _post(
            api, "/payments", {"PayAmt": Decimal("50.00"), "PatNum": 2, "payPlanNum": 1}
        )

        assert response.status_code == 201
        splits = _json(await api.get("/paysplits", params={"PayNum": _json(response)["PayNum"]}))
        assert [(s["SplitAmt"], s["PayPlanNum"]) for s in splits] == [(Decimal("50.00"), 1)]

    @pytest.mark.parametrize(
        ("plan", "reason"),
        [("closed", "closed"), ("old", "Dynamic"), ("other", "invalid"), ("missing", "invalid")],
    )
    async def test_payment_on_a_plan_it_cannot_use_is_refused_naming_payplannum(
        self,
        api: httpx.AsyncClient,
        opendental_simulator: OpenDentalSimulator,
        plan: str,
        reason: str,
    ) -> None:
        state = _state(opendental_simulator)
        plan_num = {
            "closed": state.add_payplan(1, is_closed=True),
            "old": state.add_payplan(1, is_dynamic=False),
            "other": 1,  # the seeded plan of patient 2
            "missing": 999,
        }[plan]

        response = await _post(api, "/payments", {"PayAmt": 5, "PatNum": 1, "payPlanNum": plan_num})

        assert response.status_code == 400
        assert "payPlanNum" in _json(response) and reason in _json(response)
        assert state.payments == []


class TestRefunds:
    async def test_refund_is_a_new_negative_payment_copying_the_original(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        original = state.add_payment(
            1, Decimal("129.99"), pay_note="Check payment", check_num="2058"
        )

        response = await _post(api, "/payments/Refund", {"PayNum": original["PayNum"]})

        assert response.status_code == 201
        refund = _json(response)
        assert refund["PayAmt"] == Decimal("-129.99") and refund["PayNum"] != original["PayNum"]
        assert (refund["PayNote"], refund["CheckNum"]) == ("Check payment", "2058")
        assert refund["PaymentSource"] == "None" and refund["DateEntry"] == TODAY
        assert state.refund_of == {refund["PayNum"]: original["PayNum"]}
        assert [s["SplitAmt"] for s in state.splits_of(refund["PayNum"])] == [Decimal("-129.99")]

    async def test_refund_is_refused_for_a_payment_on_a_plan(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        on_plan = state.add_payment(2, Decimal("50.00"), pay_plan_num=1)

        response = await _post(api, "/payments/Refund", {"PayNum": on_plan["PayNum"]})

        assert response.status_code == 400 and "payment plan" in _json(response)
        assert state.refund_of == {}

    async def test_refund_is_refused_for_a_payment_with_negative_splits(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        transfer = state.add_payment(
            1, Decimal("10.00"), split_amounts=[Decimal("20.00"), Decimal("-10.00")]
        )

        response = await _post(api, "/payments/Refund", {"PayNum": transfer["PayNum"]})

        assert response.status_code == 400 and "negative paysplits" in _json(response)

    async def test_refund_is_refused_twice_and_for_a_refund(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        original = _state(opendental_simulator).add_payment(1, Decimal("30.00"))
        refund = _json(await _post(api, "/payments/Refund", {"PayNum": original["PayNum"]}))

        again = await _post(api, "/payments/Refund", {"PayNum": original["PayNum"]})
        of_refund = await _post(api, "/payments/Refund", {"PayNum": refund["PayNum"]})

        assert again.status_code == 400 and "already been refunded" in _json(again)
        assert of_refund.status_code == 400
        assert len(_state(opendental_simulator).payments) == 2

    async def test_refund_of_an_unknown_payment_is_404(self, api: httpx.AsyncClient) -> None:
        assert (await _post(api, "/payments/Refund", {"PayNum": 424242})).status_code == 404
        assert (await _post(api, "/payments/Refund", {})).status_code == 400

    async def test_refunds_are_counted_apart_from_payments(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        original = state.add_payment(1, Decimal("30.00"))

        await _post(api, "/payments/Refund", {"PayNum": original["PayNum"]})

        assert state.post_count("payments/Refund") == 1 and state.post_count("payments") == 0


class TestPaymentUpdates:
    async def test_put_changes_the_note_and_ignores_amount_date_and_patient(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        row = _state(opendental_simulator).add_payment(1, Decimal("30.00"), pay_note="old")

        response = await _put(
            api,
            f"/payments/{row['PayNum']}",
            {"PayNote": "new", "PayAmt": Decimal("1.00"), "PayDate": "2020-01-01", "PatNum": 2},
        )

        assert response.status_code == 200
        updated = _json(response)
        assert updated["PayNote"] == "new"
        assert (updated["PayAmt"], updated["PatNum"]) == (Decimal("30.00"), 1)
        assert updated["PayDate"] == TODAY

    @pytest.mark.parametrize(
        "body",
        [
            {"ProcessStatus": "OfficeProcessed"},
            {"CheckNum": "1" * 26},
            {"PayType": 9999},
            {"PayNote": 5},
        ],
    )
    async def test_put_refuses_bad_fields_and_changes_nothing(
        self,
        api: httpx.AsyncClient,
        opendental_simulator: OpenDentalSimulator,
        body: dict[str, Any],
    ) -> None:
        row = _state(opendental_simulator).add_payment(1, Decimal("30.00"), pay_note="old")

        response = await _put(api, f"/payments/{row['PayNum']}", {"PayNote": "new", **body})

        assert response.status_code == 400
        assert row["PayNote"] == "old"

    async def test_put_of_an_unknown_payment_is_404(self, api: httpx.AsyncClient) -> None:
        assert (await _put(api, "/payments/424242", {"PayNote": "x"})).status_code == 404
        assert (await _put(api, "/payments/Refund", {"PayNote": "x"})).status_code == 400

    async def test_puts_are_counted_per_resource(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        row = state.add_payment(1, Decimal("30.00"))

        await _put(api, f"/payments/{row['PayNum']}", {"PayNote": "x"})

        assert state.put_count("payments") == 1 and state.post_counts() == {}


class TestClaimPayments:
    async def _receive(self, api: httpx.AsyncClient, claim_num: int, amounts: list[str]) -> None:
        procs = _json(await api.get("/claimprocs", params={"ClaimNum": claim_num}))
        for proc, amount in zip(procs, amounts, strict=True):
            body = {"Status": "Received", "InsPayAmt": Decimal(amount)}
            response = await _put(api, f"/claimprocs/{proc['ClaimProcNum']}", body)
            assert response.status_code == 200
        assert (await _put(api, f"/claims/{claim_num}", {"ClaimStatus": "R"})).status_code == 200

    async def test_seeded_claim_is_sent_with_not_received_claimprocs(
        self, api: httpx.AsyncClient
    ) -> None:
        claim = _json(await api.get("/claims/1"))
        procs = _json(await api.get("/claimprocs", params={"ClaimNum": 1}))

        assert claim["ClaimStatus"] == "S" and claim["PatNum"] == 4
        assert claim["InsPayEst"] == sum(p["InsPayEst"] for p in procs)
        assert {(p["Status"], p["ClaimPaymentNum"]) for p in procs} == {("NotReceived", 0)}
        assert (await api.get("/claims/999")).status_code == 404

    async def test_insurance_payment_types_are_definitions_of_category_32(
        self, api: httpx.AsyncClient
    ) -> None:
        types = _json(await api.get("/definitions", params={"Category": 32}))

        assert [t["ItemName"] for t in types] == ["Check", "EFT", "Virtual Credit Card"]
        assert {t["category"] for t in types} == {"InsurancePaymentType"}

    async def test_claim_payment_attaches_the_received_claimprocs(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        await self._receive(api, 1, ["50.00", "88.00"])

        response = await _post(
            api,
            "/claimpayments",
            {"claimNum": 1, "CheckAmt": Decimal("138.00"), "CheckNum": "77", "Note": "eob"},
        )

        assert response.status_code == 201
        check = _json(response)
        assert check["CheckAmt"] == Decimal("138.00") and check["payType"] == "Check"
        assert check["CarrierName"] == "Fictional Dental Mutual" and check["IsPartial"] == "false"
        procs = _state(opendental_simulator).claimprocs_of(1)
        assert {p["ClaimPaymentNum"] for p in procs} == {check["ClaimPaymentNum"]}
        assert _state(opendental_simulator).claim(1)["InsPayAmt"] == Decimal("138.00")  # type: ignore[index]

    async def test_check_amount_must_equal_the_unattached_inspayamt(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        await self._receive(api, 1, ["50.00", "88.00"])

        response = await _post(
            api, "/claimpayments", {"claimNum": 1, "CheckAmt": Decimal("138.01")}
        )

        assert response.status_code == 400 and "CheckAmt" in _json(response)
        assert _state(opendental_simulator).claimpayments == []

    async def test_claim_payment_needs_a_received_claim(self, api: httpx.AsyncClient) -> None:
        response = await _post(api, "/claimpayments", {"claimNum": 1, "CheckAmt": 0})

        assert response.status_code == 400 and "ClaimStatus" in _json(response)

    async def test_inspayamt_is_frozen_once_on_a_check(self, api: httpx.AsyncClient) -> None:
        await self._receive(api, 1, ["50.00", "88.00"])
        await _post(api, "/claimpayments", {"claimNum": 1, "CheckAmt": Decimal("138.00")})

        response = await _put(api, "/claimprocs/1", {"InsPayAmt": Decimal("1.00")})

        assert response.status_code == 400 and "InsPayAmt" in _json(response)

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/claimprocs/1", {"Status": "Adjustment"}),
            ("/claimprocs/1", {"InsPayAmt": "50.00"}),
            ("/claims/1", {"ClaimStatus": "X"}),
        ],
    )
    async def test_claim_updates_validate_their_fields(
        self, api: httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> None:
        assert (await _put(api, path, body)).status_code == 400

    async def test_claimpayments_list_filters_on_secdatetedit(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        await self._receive(api, 1, ["50.00", "88.00"])
        await _post(api, "/claimpayments", {"claimNum": 1, "CheckAmt": Decimal("138.00")})
        tomorrow = (date.today() + timedelta(days=1)).isoformat()

        since_today = _json(
            await api.get("/claimpayments", params={"SecDateTEdit": f"{TODAY} 00:00:00"})
        )
        since_tomorrow = _json(
            await api.get("/claimpayments", params={"SecDateTEdit": f"{tomorrow} 00:00:00"})
        )

        assert len(since_today) == 1 and since_tomorrow == []
        assert (await api.get("/claimpayments", params={"SecDateTEdit": TODAY})).status_code == 400


class TestWriteFaultsAcrossEndpoints:
    async def test_fail_before_commit_can_skip_writes_of_any_endpoint_first(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = _state(opendental_simulator)
        state.faults.fail_writes_before_commit(count=1, status=503, after=1)

        first = await _put(api, "/claims/1", {"ClaimStatus": "R"})
        second = await _put(api, "/claimprocs/1", {"Status": "Received"})
        third = await _put(api, "/claimprocs/1", {"Status": "Received"})

        assert (first.status_code, second.status_code, third.status_code) == (200, 503, 200)
        assert state.put_counts() == {"claims": 1, "claimprocs": 2}

    async def test_after_can_be_set_over_http(
        self, control: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        answer = await control.post("/_sim/faults", json={"fail_after_commit": {"after": 2}})

        assert answer.json()["fail_after_commit"]["after"] == 2
        assert _state(opendental_simulator).faults.after_commit.after == 2


class TestAdjustmentFields:
    async def test_adjdate_is_required_and_rows_name_their_type(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        tax = next(
            d["DefNum"]
            for d in _state(opendental_simulator).definitions
            if d["Category"] == 1 and d["ItemName"] == "Sales Tax"
        )

        missing = await _post(api, "/adjustments", {"PatNum": 1, "AdjType": tax, "AdjAmt": 3})
        created = await _post(
            api, "/adjustments", {"PatNum": 1, "AdjType": tax, "AdjAmt": 3, "AdjDate": TODAY}
        )

        assert missing.status_code == 400 and "AdjDate" in _json(missing)
        assert created.status_code == 201 and _json(created)["adjType"] == "Sales Tax"
