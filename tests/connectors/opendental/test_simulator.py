"""The simulator behaves like Open Dental's documented API, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.fixtures.simulator import OpenDentalSimulator

PATIENT = 1
UNKNOWN_PATIENT = 9999


def _json(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def _def_num(sim: OpenDentalSimulator, category: int, name: str) -> int:
    return int(
        next(
            d["DefNum"]
            for d in sim.state.definitions
            if d["Category"] == category and d["ItemName"] == name
        )
    )


async def _eventually(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(2):
        while not check():  # noqa: ASYNC110 - the simulator offers no event to wait on
            await asyncio.sleep(0.01)


async def _post(api: httpx.AsyncClient, path: str, body: str) -> httpx.Response:
    return await api.post(path, content=body)


class TestPayments:
    async def test_post_payment_returns_201_row_with_open_dental_fields(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        response = await _post(api, "/payments", '{"PayAmt": 25.50, "PatNum": 1, "PayNote": "n"}')

        assert response.status_code == 201
        row = _json(response)
        today = date.today().isoformat()
        assert row["PayAmt"] == Decimal("25.50")
        assert row["PatNum"] == PATIENT
        assert row["PayDate"] == today and row["DateEntry"] == today
        assert row["PaymentSource"] == "API"
        assert row["ProcessStatus"] == "OfficeProcessed"
        assert row["payType"] == "From API"
        assert row["PayType"] == opendental_simulator.state.api_payment_type
        assert len(opendental_simulator.state.payments) == 1

    async def test_amount_is_stored_and_returned_with_exactly_its_digits(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        response = await _post(api, "/payments", '{"PayAmt": 1234567.10, "PatNum": 1}')

        assert '"PayAmt":1234567.10' in response.text
        assert opendental_simulator.state.payments[0]["PayAmt"] == Decimal("1234567.10")

    async def test_unknown_patnum_is_refused_with_400(self, api: httpx.AsyncClient) -> None:
        response = await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 9999}')

        assert response.status_code == 400
        assert "PatNum" in _json(response)

    @pytest.mark.parametrize("amount", ['"10.00"', "0", "0.00", "true", "null"])
    async def test_pay_amount_must_be_a_nonzero_number(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator, amount: str
    ) -> None:
        response = await _post(api, "/payments", f'{{"PayAmt": {amount}, "PatNum": 1}}')

        assert response.status_code == 400
        assert "PayAmt" in _json(response)
        assert opendental_simulator.state.payments == []

    async def test_hidden_pay_type_is_refused(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        hidden = _def_num(opendental_simulator, 10, "Old Card Terminal")

        response = await _post(
            api, "/payments", f'{{"PayAmt": 5, "PatNum": 1, "PayType": {hidden}}}'
        )

        assert response.status_code == 400
        assert _json(response) == "PayType is invalid."

    async def test_pay_type_from_another_category_is_refused(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        adjustment_type = _def_num(opendental_simulator, 1, "Sales Tax")

        response = await _post(
            api, "/payments", f'{{"PayAmt": 5, "PatNum": 1, "PayType": {adjustment_type}}}'
        )

        assert response.status_code == 400

    async def test_future_pay_date_is_refused_unless_the_office_allows_it(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        body = f'{{"PayAmt": 5, "PatNum": 1, "PayDate": "{tomorrow}"}}'

        refused = await _post(api, "/payments", body)
        opendental_simulator.state.allow_future_pay_dates = True
        allowed = await _post(api, "/payments", body)

        assert refused.status_code == 400 and "PayDate" in _json(refused)
        assert allowed.status_code == 201 and _json(allowed)["PayDate"] == tomorrow

    async def test_pay_date_must_be_yyyy_mm_dd(self, api: httpx.AsyncClient) -> None:
        response = await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 1, "PayDate": "3/4/24"}')

        assert response.status_code == 400

    async def test_check_number_longer_than_25_is_refused(self, api: httpx.AsyncClient) -> None:
        body = json.dumps({"PayAmt": 5, "PatNum": 1, "CheckNum": "1" * 26})

        response = await _post(api, "/payments", body)

        assert response.status_code == 400 and "CheckNum" in _json(response)

    async def test_list_filters_by_patient_and_entry_date_and_pages_by_100(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = opendental_simulator.state
        for _ in range(130):
            state.add_payment(PATIENT, Decimal("1.00"))
        state.add_payment(2, Decimal("2.00"))
        state.add_payment(PATIENT, Decimal("3.00"), date_entry=date.today() - timedelta(days=9))
        since = (date.today() - timedelta(days=1)).isoformat()

        first = _json(await api.get("/payments", params={"PatNum": 1, "DateEntry": since}))
        second = _json(
            await api.get("/payments", params={"PatNum": 1, "DateEntry": since, "Offset": 100})
        )
        capped = _json(await api.get("/payments", params={"Limit": 1000}))

        assert len(first) == 100 and len(second) == 30
        assert all(row["PatNum"] == PATIENT for row in first + second)
        assert all("serverDateTime" in row for row in first)
        assert len(capped) == 100

    async def test_post_without_json_content_type_is_refused_with_400(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        response = await api.post(
            "/payments",
            content='{"PayAmt": 5, "PatNum": 1}',
            headers={"Content-Type": "text/plain"},
        )

        assert response.status_code == 400
        assert opendental_simulator.state.payments == []

    async def test_malformed_json_body_is_refused_with_400(self, api: httpx.AsyncClient) -> None:
        response = await _post(api, "/payments", '{"PayAmt": 5, "PatNum": ')

        assert response.status_code == 400


class TestAuthAndThrottle:
    async def test_missing_authorization_is_refused_with_401(
        self, opendental_simulator: OpenDentalSimulator
    ) -> None:
        async with httpx.AsyncClient(base_url=opendental_simulator.base_url) as client:
            response = await client.get("/providers")

        assert response.status_code == 401

    async def test_disabled_customer_key_is_refused_with_401(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.disable_customer_key(opendental_simulator.customer_key)

        response = await api.get("/providers")

        assert response.status_code == 401
        assert "disabled" in _json(response)

    async def test_wrong_developer_key_is_refused_with_401(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        auth = f"ODFHIR wrong/{opendental_simulator.customer_key}"

        response = await api.get("/providers", headers={"Authorization": auth})

        assert response.status_code == 401

    async def test_call_inside_the_throttle_interval_gets_429_with_retry_after(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.throttle_interval_seconds = 30

        first = await api.get("/providers")
        second = await api.get("/providers")

        assert first.status_code == 200
        assert second.status_code == 429
        assert 1 <= int(second.headers["Retry-After"]) <= 30

    async def test_throttle_is_per_customer_key(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = opendental_simulator.state
        state.throttle_interval_seconds = 30
        state.add_customer_key("other-office")
        other = f"ODFHIR {opendental_simulator.developer_key}/other-office"

        await api.get("/providers")
        response = await api.get("/providers", headers={"Authorization": other})

        assert response.status_code == 200

    async def test_throttle_fault_answers_429_for_the_next_calls_only(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.faults.throttle_calls(count=1, retry_after=7)

        throttled = await api.get("/providers")
        allowed = await api.get("/providers")

        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
        assert allowed.status_code == 200


class TestWriteFaults:
    async def test_fail_before_commit_answers_5xx_and_stores_nothing(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.faults.fail_writes_before_commit(count=1, status=503)

        response = await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 1}')

        assert response.status_code == 503
        assert opendental_simulator.state.payments == []
        assert opendental_simulator.state.post_count("payments") == 1

    async def test_fail_after_commit_answers_5xx_but_stores_the_row(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.faults.fail_writes_after_commit(count=1, status=500)

        failed = await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 1}')
        ok = await _post(api, "/payments", '{"PayAmt": 6, "PatNum": 1}')

        assert failed.status_code == 500 and ok.status_code == 201
        assert len(opendental_simulator.state.payments) == 2

    async def test_call_held_by_latency_is_dropped_when_the_state_resets(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = opendental_simulator.state
        state.faults.latency_ms = 5000
        call = asyncio.create_task(_post(api, "/payments", '{"PayAmt": 5, "PatNum": 1}'))
        await _eventually(lambda: state.post_count("payments") == 1)

        state.reset()
        response = await call

        assert response.status_code == 503
        assert state.payments == []

    async def test_post_count_includes_refused_posts(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 9999}')
        await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 1}')

        assert opendental_simulator.state.post_count("payments") == 2
        assert opendental_simulator.state.post_count("commlogs") == 0


class TestDefinitionsProvidersPatients:
    async def test_definitions_hide_hidden_entries_unless_asked(
        self, api: httpx.AsyncClient
    ) -> None:
        visible = _json(await api.get("/definitions", params={"Category": 10}))
        everything = _json(
            await api.get("/definitions", params={"Category": 10, "includeHidden": "true"})
        )

        assert {d["ItemName"] for d in visible} >= {"Check", "Cash", "Credit Card", "From API"}
        assert all(d["isHidden"] == "false" and d["category"] == "PaymentTypes" for d in visible)
        assert len(everything) == len(visible) + 1
        assert set(everything[0]) >= {"DefNum", "Category", "ItemOrder", "ItemValue", "ItemColor"}

    async def test_commlog_and_image_definitions_carry_their_item_value_codes(
        self, api: httpx.AsyncClient
    ) -> None:
        commlog_types = _json(await api.get("/definitions", params={"Category": 27}))
        image_cats = _json(await api.get("/definitions", params={"Category": 18}))

        assert {d["ItemValue"] for d in commlog_types} >= {"APPT", "FIN", "MISC", "TEXT"}
        assert any("P" in d["ItemValue"] for d in image_cats)

    async def test_providers_page_and_report_hidden_and_deleted_as_strings(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        for n in range(110):
            opendental_simulator.state.add_provider(f"P{n}", "Test", f"Provider{n}")

        first = _json(await api.get("/providers"))
        second = _json(await api.get("/providers", params={"Offset": 100}))

        assert len(first) == 100 and len(second) == 14
        hidden = next(p for p in first if p["Abbr"] == "DOC3")
        assert hidden["IsHidden"] == "true" and hidden["ProvStatus"] == "Deleted"
        assert "serverDateTime" in first[0]

    async def test_unknown_patient_is_404(self, api: httpx.AsyncClient) -> None:
        assert (await api.get("/patients/1")).status_code == 200
        assert (await api.get(f"/patients/{UNKNOWN_PATIENT}")).status_code == 404

    async def test_patients_simple_returns_rows_changed_since_datetstamp(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        state = opendental_simulator.state
        for row in state.patients.values():
            row["DateTStamp"] = "2020-01-01 00:00:00"
        new = state.add_patient("Newcomer", "Flynn")

        changed = _json(
            await api.get("/patients/Simple", params={"DateTStamp": "2024-01-01 00:00:00"})
        )

        assert [row["PatNum"] for row in changed] == [new]
        assert "serverDateTime" in changed[0]


class TestAdjustmentsAndCommlogs:
    async def test_adjustment_amount_sign_must_match_its_type(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        discount = _def_num(opendental_simulator, 1, "Professional Discount")  # "-"
        today = date.today().isoformat()
        body = '{{"PatNum": 1, "AdjType": {t}, "AdjAmt": {a}, "AdjDate": "{d}"}}'

        wrong = await _post(api, "/adjustments", body.format(t=discount, a="12.50", d=today))
        right = await _post(api, "/adjustments", body.format(t=discount, a="-12.50", d=today))

        assert wrong.status_code == 400 and "AdjAmt" in _json(wrong)
        assert right.status_code == 201 and _json(right)["AdjAmt"] == Decimal("-12.50")
        listed = _json(await api.get("/adjustments", params={"PatNum": 1}))
        assert [row["AdjNum"] for row in listed] == [_json(right)["AdjNum"]]

    async def test_adjustment_date_cannot_be_in_the_future(
        self, api: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        tax = _def_num(opendental_simulator, 1, "Sales Tax")
        tomorrow = (date.today() + timedelta(days=1)).isoformat()

        response = await _post(
            api,
            "/adjustments",
            f'{{"PatNum": 1, "AdjType": {tax}, "AdjAmt": 3, "AdjDate": "{tomorrow}"}}',
        )

        assert response.status_code == 400 and "AdjDate" in _json(response)

    async def test_commlog_defaults_to_misc_phone_sent(self, api: httpx.AsyncClient) -> None:
        response = await _post(api, "/commlogs", '{"PatNum": 1, "Note": "Called about balance"}')

        row = _json(response)
        assert response.status_code == 201
        assert (row["commType"], row["Mode_"], row["SentOrReceived"]) == ("Misc", "Phone", "Sent")

    @pytest.mark.parametrize(
        "body",
        [
            '{"PatNum": 1}',
            '{"PatNum": 1, "Note": "x", "Mode_": "Fax"}',
            '{"PatNum": 1, "Note": "x", "SentOrReceived": "Both"}',
            '{"PatNum": 1, "Note": "x", "CommDateTime": "2024-01-01"}',
        ],
    )
    async def test_commlog_validation_refuses_bad_fields(
        self, api: httpx.AsyncClient, body: str
    ) -> None:
        assert (await _post(api, "/commlogs", body)).status_code == 400


class TestControlEndpoints:
    async def test_faults_can_be_set_over_http_without_odfhir_auth(
        self,
        api: httpx.AsyncClient,
        control: httpx.AsyncClient,
        opendental_simulator: OpenDentalSimulator,
    ) -> None:
        answer = await control.post(
            "/_sim/faults", json={"fail_before_commit": {"count": 2, "status": 502}}
        )

        assert answer.status_code == 200
        assert answer.json()["fail_before_commit"] == {
            "count": 2,
            "status": 502,
            "seconds": 0.0,
            "after": 0,
        }
        response = await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 1}')
        assert response.status_code == 502

    async def test_bad_fault_request_is_refused_and_changes_nothing(
        self, control: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        answer = await control.post(
            "/_sim/faults",
            json={"latency_ms": 5, "fail_after_commit": {"count": 1, "status": 404}},
        )

        assert answer.status_code == 400
        assert opendental_simulator.state.faults.latency_ms == 0

    async def test_reset_over_http_clears_rows_faults_and_counts(
        self,
        api: httpx.AsyncClient,
        control: httpx.AsyncClient,
        opendental_simulator: OpenDentalSimulator,
    ) -> None:
        await _post(api, "/payments", '{"PayAmt": 5, "PatNum": 1}')
        opendental_simulator.state.faults.latency_ms = 10

        await control.post("/_sim/reset")

        state = opendental_simulator.state
        assert state.payments == [] and state.post_count("payments") == 0
        assert state.faults.latency_ms == 0
        assert len(state.patients) == 5

    async def test_inspection_endpoints_list_rows_and_counts(
        self, api: httpx.AsyncClient, control: httpx.AsyncClient
    ) -> None:
        await _post(api, "/payments", '{"PayAmt": 5.10, "PatNum": 1}')

        payments = _json(await control.get("/_sim/payments"))
        counts = (await control.get("/_sim/counts")).json()

        assert [row["PayAmt"] for row in payments] == [Decimal("5.10")]
        assert counts == {"payments": 1}

    async def test_config_endpoint_sets_throttle_and_disables_keys(
        self,
        api: httpx.AsyncClient,
        control: httpx.AsyncClient,
        opendental_simulator: OpenDentalSimulator,
    ) -> None:
        key = opendental_simulator.customer_key

        answer = await control.post("/_sim/config", json={"customer_keys": {key: False}})

        assert answer.status_code == 200
        assert (await api.get("/providers")).status_code == 401
