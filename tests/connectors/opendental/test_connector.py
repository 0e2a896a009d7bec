"""OpenDentalConnector against the simulator over real HTTP (and a few canned answers)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.opendental import OpenDentalConnector
from domain.ports import (
    CredentialsError,
    OutcomeUnknownError,
    PaymentPosting,
    PermanentError,
    PmsConnector,
    Throttled,
    TransientError,
)
from tests.connectors.opendental.conftest import ConnectorFactory, FakeRateLimiter
from tests.fixtures.simulator import OpenDentalSimulator, free_port

MARKER = "0123456789abcdef"
# Short enough to keep timeout tests fast, long enough for a healthy local call.
SHORT_TIMEOUT = 0.3


def posting(**changes: object) -> PaymentPosting:
    base = PaymentPosting(
        patient_ref="1",
        amount=Decimal("123.45"),
        pay_date=date.today(),
        note=f"[WB:{MARKER}] card_terminal/card gross 127.50 fee 4.05 net 123.45",
        marker=MARKER,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def canned(status: int, body: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """A client whose every answer is fixed, for Open Dental answers the simulator never gives."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=body, headers=headers)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def canned_connector(
    sim: OpenDentalSimulator, client: httpx.AsyncClient, limiter: FakeRateLimiter
) -> OpenDentalConnector:
    return OpenDentalConnector(sim.credentials(), client, limiter)


def test_open_dental_connector_satisfies_the_port(connector: OpenDentalConnector) -> None:
    port: PmsConnector = connector
    assert port.capabilities.patient_payments
    assert port.capabilities.numeric_patient_ids
    assert not port.capabilities.insurance_payments_as_patient_payments


class TestPostPayment:
    async def test_posting_a_payment_creates_one_row_with_the_exact_amount(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        record = await connector.post_payment(posting(amount=Decimal("0.10")))

        rows = opendental_simulator.state.payments
        assert len(rows) == 1
        assert rows[0]["PayAmt"] == Decimal("0.10")
        assert MARKER in rows[0]["PayNote"]
        assert record.record_id == str(rows[0]["PayNum"])
        assert record.amount == Decimal("0.10") and record.pay_date == date.today()
        assert opendental_simulator.state.post_count("payments") == 1

    async def test_posting_sends_odfhir_auth_and_the_amount_as_an_exact_json_number(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        sent: list[httpx.Request] = []

        async def record(request: httpx.Request) -> None:
            sent.append(request)

        async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
            connector = OpenDentalConnector(opendental_simulator.credentials(), client, limiter)
            await connector.post_payment(posting(amount=Decimal("1234567.10"), check_number="77"))

        request = sent[0]
        sim = opendental_simulator
        assert request.headers["Authorization"] == f"ODFHIR {sim.developer_key}/{sim.customer_key}"
        assert request.headers["Content-Type"] == "application/json"
        assert b'"PayAmt":1234567.10' in request.content
        body = json.loads(request.content, parse_float=Decimal)
        assert body["PatNum"] == 1 and body["CheckNum"] == "77"
        assert body["PayDate"] == date.today().isoformat()

    async def test_payment_type_is_sent_as_its_defnum(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        cash = next(t for t in await connector.list_payment_types() if t.name == "Cash")

        await connector.post_payment(posting(pay_type=cash.id))

        assert opendental_simulator.state.payments[0]["payType"] == "Cash"

    async def test_limiter_is_reserved_before_every_request(
        self, connector: OpenDentalConnector, limiter: FakeRateLimiter
    ) -> None:
        await connector.post_payment(posting())
        await connector.patient_exists("1")

        assert limiter.reservations == [("sim-connection", 0.0, 2.0)] * 2

    async def test_limiter_refusal_propagates_and_nothing_is_sent(
        self, http: httpx.AsyncClient, opendental_simulator: OpenDentalSimulator
    ) -> None:
        refusing = OpenDentalConnector(
            opendental_simulator.credentials(), http, FakeRateLimiter(refuse_with=4.0)
        )

        with pytest.raises(Throttled) as caught:
            await refusing.post_payment(posting())

        assert caught.value.retry_after == 4.0
        assert opendental_simulator.state.post_count("payments") == 0


class TestFindPayment:
    async def test_find_payment_finds_the_marker_beyond_the_first_page(
        self,
        connector: OpenDentalConnector,
        opendental_simulator: OpenDentalSimulator,
        limiter: FakeRateLimiter,
    ) -> None:
        state = opendental_simulator.state
        for n in range(150):
            state.add_payment(1, Decimal("5.00"), pay_note=f"[WB:{n:016x}] other")
        target = state.add_payment(1, Decimal("99.99"), pay_note=f"[WB:{MARKER}] ours")

        found = await connector.find_payment("1", MARKER, date.today())

        assert found is not None
        assert found.record_id == str(target["PayNum"]) and found.amount == Decimal("99.99")
        assert len(limiter.reservations) == 2

    async def test_find_payment_returns_none_when_no_note_has_the_marker(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.add_payment(1, Decimal("5.00"), pay_note="[WB:ffffffffffffffff]")

        assert await connector.find_payment("1", MARKER, date.today()) is None

    async def test_find_payment_ignores_payments_entered_before_the_given_date(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.add_payment(
            1, Decimal("5"), pay_note=MARKER, date_entry=date.today() - timedelta(days=3)
        )

        assert await connector.find_payment("1", MARKER, date.today()) is None


class TestRefusals:
    async def test_unknown_patient_raises_permanent_error_with_patnum_hint_and_no_phi(
        self, connector: OpenDentalConnector
    ) -> None:
        note = f"[WB:{MARKER}] for Avery Demo"

        with pytest.raises(PermanentError) as caught:
            await connector.post_payment(posting(patient_ref="9999", note=note))

        error = caught.value
        assert not isinstance(error, CredentialsError)
        assert "HTTP 400" in error.message and "PatNum" in error.message
        assert "PatNum" in error.hint
        assert "Avery" not in error.message and MARKER not in error.message

    async def test_hidden_payment_type_raises_permanent_error_with_settings_hint(
        self, connector: OpenDentalConnector
    ) -> None:
        everything = await connector.list_payment_types(include_hidden=True)
        hidden = next(t for t in everything if t.hidden)

        with pytest.raises(PermanentError) as caught:
            await connector.post_payment(posting(pay_type=hidden.id))

        assert "payment type" in caught.value.hint

    async def test_non_numeric_patient_ref_is_refused_before_sending(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        with pytest.raises(PermanentError):
            await connector.post_payment(posting(patient_ref="abc"))

        assert opendental_simulator.state.post_count("payments") == 0

    async def test_disabled_key_raises_credentials_error_with_setup_hint(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.disable_customer_key(opendental_simulator.customer_key)

        with pytest.raises(CredentialsError) as caught:
            await connector.list_providers()

        assert "HTTP 401" in caught.value.message
        assert "Setup > Advanced Setup > API" in caught.value.hint

    async def test_throttled_answer_raises_transient_error_with_retry_after(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.faults.throttle_calls(count=1, retry_after=3)

        with pytest.raises(TransientError) as caught:
            await connector.post_payment(posting())

        assert caught.value.retry_after == 3.0
        assert opendental_simulator.state.payments == []


class TestAmbiguousWrites:
    async def test_5xx_before_commit_raises_outcome_unknown_and_no_row_exists(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.faults.fail_writes_before_commit(status=500)

        with pytest.raises(OutcomeUnknownError):
            await connector.post_payment(posting())

        assert opendental_simulator.state.payments == []
        assert await connector.find_payment("1", MARKER, date.today()) is None

    async def test_5xx_after_commit_raises_outcome_unknown_and_find_payment_finds_it(
        self, connector: OpenDentalConnector, opendental_simulator: OpenDentalSimulator
    ) -> None:
        opendental_simulator.state.faults.fail_writes_after_commit(status=502)

        with pytest.raises(OutcomeUnknownError):
            await connector.post_payment(posting())

        found = await connector.find_payment("1", MARKER, date.today())
        assert found is not None and found.amount == Decimal("123.45")

    async def test_timeout_after_commit_raises_outcome_unknown_and_leaves_exactly_one_row(
        self, make_connector: ConnectorFactory, opendental_simulator: OpenDentalSimulator
    ) -> None:
        connector = make_connector(timeout_seconds=SHORT_TIMEOUT)
        opendental_simulator.state.faults.hang_writes_after_commit(seconds=5)

        with pytest.raises(OutcomeUnknownError):
            await connector.post_payment(posting())

        assert len(opendental_simulator.state.payments) == 1
        assert opendental_simulator.state.post_count("payments") == 1

    async def test_econnector_down_400_on_a_write_is_transient(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        body = '"The eConnector is not running at the office."'
        async with canned(400, body) as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(TransientError) as caught:
                await connector.post_payment(posting())

        assert not isinstance(caught.value, OutcomeUnknownError)

    async def test_timeout_reported_as_400_on_a_write_is_outcome_unknown(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        async with canned(400, '"The request timed out."') as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(OutcomeUnknownError):
                await connector.post_payment(posting())

    async def test_unreadable_201_answer_is_outcome_unknown(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        async with canned(201, "<html>proxy</html>") as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(OutcomeUnknownError):
                await connector.post_payment(posting())


class TestReadsAndTransport:
    async def test_read_timeout_raises_transient_error(
        self, make_connector: ConnectorFactory, opendental_simulator: OpenDentalSimulator
    ) -> None:
        connector = make_connector(timeout_seconds=SHORT_TIMEOUT)
        opendental_simulator.state.faults.latency_ms = 2000

        with pytest.raises(TransientError) as caught:
            await connector.list_payment_types()

        assert not isinstance(caught.value, OutcomeUnknownError)

    async def test_5xx_on_a_read_raises_transient_error(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        async with canned(503, '"Service Unavailable"') as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(TransientError) as caught:
                await connector.list_providers()

        assert not isinstance(caught.value, OutcomeUnknownError)

    async def test_connection_refused_raises_transient_error(
        self,
        opendental_simulator: OpenDentalSimulator,
        http: httpx.AsyncClient,
        limiter: FakeRateLimiter,
    ) -> None:
        nowhere = replace(
            opendental_simulator.credentials(), base_url=f"http://127.0.0.1:{free_port()}/api/v1"
        )
        connector = OpenDentalConnector(nowhere, http, limiter)

        with pytest.raises(TransientError) as caught:
            await connector.post_payment(posting())

        assert not isinstance(caught.value, OutcomeUnknownError)

    async def test_404_naming_the_patient_gets_the_patnum_hint(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        async with canned(404, '"Patient not found."') as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(PermanentError) as caught:
                await connector.post_payment(posting())

        assert "HTTP 404" in caught.value.message and "PatNum" in caught.value.hint

    async def test_unknown_endpoint_404_points_at_url_and_version(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        async with canned(404, "Not Found") as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(PermanentError) as caught:
                await connector.list_payment_types()

        assert "API URL" in caught.value.hint

    async def test_retry_after_as_http_date_is_converted_to_seconds(
        self, opendental_simulator: OpenDentalSimulator, limiter: FakeRateLimiter
    ) -> None:
        headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}  # in the past
        async with canned(429, '"Too many requests."', headers) as client:
            connector = canned_connector(opendental_simulator, client, limiter)
            with pytest.raises(TransientError) as caught:
                await connector.list_providers()

        assert caught.value.retry_after == 0.0


class TestLists:
    async def test_payment_types_exclude_hidden_ones(self, connector: OpenDentalConnector) -> None:
        types = await connector.list_payment_types()

        names = {t.name for t in types}
        assert {"Check", "Cash", "Credit Card", "From API"} <= names
        assert "Old Card Terminal" not in names
        assert all(t.id.isdigit() and not t.hidden for t in types)

    async def test_providers_are_read_across_pages_and_marked_hidden_or_deleted(
        self,
        connector: OpenDentalConnector,
        opendental_simulator: OpenDentalSimulator,
        limiter: FakeRateLimiter,
    ) -> None:
        for n in range(120):
            opendental_simulator.state.add_provider(f"X{n}", "Extra", f"Provider{n}")

        providers = await connector.list_providers()

        assert len(providers) == 124
        assert len(limiter.reservations) == 2
        by_abbr = {p.extra["abbr"]: p for p in providers}
        assert by_abbr["DOC1"].name == "DOC1 - Jordan Rivera" and not by_abbr["DOC1"].hidden
        assert by_abbr["DOC2"].hidden and by_abbr["DOC3"].hidden

    async def test_patient_exists_is_true_for_a_known_patnum_and_false_for_404(
        self, connector: OpenDentalConnector
    ) -> None:
        assert await connector.patient_exists("1")
        assert not await connector.patient_exists("9999")
        assert not await connector.patient_exists("not-a-patnum")
