"""Submitting payments: validation, idempotency, decisions. No worker runs here."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from domain.persistence.models import WritebackIntent
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice


async def count_intents(practice: Practice) -> int:
    async with practice.container.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(WritebackIntent)) or 0)


async def test_the_same_payment_id_returns_the_same_writeback(practice: Practice) -> None:
    first = await practice.submit(paymentId="pay-abc")
    again = await practice.submit(paymentId="pay-abc")
    assert again["__typename"] == "SubmitPaymentSuccess"
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["writeback"]["id"] == first["writeback"]["id"]
    assert await count_intents(practice) == 1


async def test_the_same_payment_id_with_a_different_amount_is_a_conflict(
    practice: Practice,
) -> None:
    await practice.submit(paymentId="pay-abc", grossAmount="10.00")
    other = await practice.submit(paymentId="pay-abc", grossAmount="11.00")
    assert other["__typename"] == "ConflictError"
    assert await count_intents(practice) == 1


async def test_concurrent_submissions_of_one_payment_id_make_one_writeback(
    practice: Practice,
) -> None:
    results = await asyncio.gather(*(practice.submit(paymentId="pay-race") for _ in range(5)))
    assert {r["__typename"] for r in results} == {"SubmitPaymentSuccess"}
    assert len({r["writeback"]["id"] for r in results}) == 1
    assert await count_intents(practice) == 1


async def test_invalid_amounts_are_typed_errors_and_store_nothing(practice: Practice) -> None:
    cases: list[dict[str, Any]] = [
        {"grossAmount": "0"},
        {"grossAmount": "-5.00"},
        {"grossAmount": "10.001"},
        {"grossAmount": "10.00", "fee": "10.01"},
        {"patientRef": "not-a-patnum"},
    ]
    for case in cases:
        result = await practice.submit(**case)
        assert result["__typename"] == "ValidationError", case
        assert result["fields"], case
    assert await count_intents(practice) == 0


async def test_an_unknown_location_is_not_found(practice: Practice) -> None:
    result = await practice.submit(locationId="00000000-0000-0000-0000-000000000000")
    assert result["__typename"] == "NotFoundError"


async def test_a_writeback_records_the_settings_version_it_was_decided_under(
    practice: Practice,
) -> None:
    before = await practice.submit()
    await practice.settings(amountBasis="GROSS")
    after = await practice.submit()
    assert before["writeback"]["settingsVersion"] == 0
    assert after["writeback"]["settingsVersion"] == 1
    # Settings changes apply to payments submitted afterwards only.
    assert before["writeback"]["payment"]["postedAmount"] == "96.80"
    assert after["writeback"]["payment"]["postedAmount"] == "100.00"


async def test_history_is_newest_first_and_pages_with_a_cursor(practice: Practice) -> None:
    ids = [(await practice.submit(paymentId=f"hist-{n}"))["writeback"]["id"] for n in range(5)]
    seen: list[str] = []
    after = None
    while True:
        page = (
            await practice.staff.execute(
                ops.WRITEBACKS,
                {"filter": {"locationId": practice.location_id}, "first": 2, "after": after},
            )
        )["writebacks"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(ids))


async def test_history_filters_by_status_patient_and_source_id(practice: Practice) -> None:
    await practice.settings(sources=[{"source": "MEMBERSHIP", "enabled": False}])
    skipped = (await practice.submit(source="MEMBERSHIP", patientRef="2"))["writeback"]
    queued = (await practice.submit(paymentId="wanted", patientRef="3"))["writeback"]

    async def ids(filter: dict[str, Any]) -> list[str]:
        page = (await practice.staff.execute(ops.WRITEBACKS, {"filter": filter, "first": 50}))[
            "writebacks"
        ]
        return [e["node"]["id"] for e in page["edges"]]

    assert await ids({"statuses": ["SKIPPED"]}) == [skipped["id"]]
    assert await ids({"patientRef": "3"}) == [queued["id"]]
    assert await ids({"sourceId": "wanted"}) == [queued["id"]]
    assert await ids({"kind": "PAYMENT", "locationId": practice.location_id}) == [
        queued["id"],
        skipped["id"],
    ]


async def test_hostile_inputs_are_typed_errors_never_internal_ones(practice: Practice) -> None:
    from datetime import date, timedelta

    cases: list[dict[str, Any]] = [
        {"grossAmount": "1e30"},
        {"fee": "1e30"},
        {"checkNumber": "12\u000034"},
        {"checkNumber": "x" * 26},
        {"patientRef": "0001"},
        {"patientRef": "9" * 25},
        {"paidOn": (date.today() + timedelta(days=5)).isoformat()},
        {"paymentId": "x" * 300},
    ]
    for case in cases:
        result = await practice.submit(**case)
        assert result["__typename"] == "ValidationError", case
    assert await count_intents(practice) == 0


async def test_bad_history_filters_and_cursors_are_typed_errors(practice: Practice) -> None:
    cases: list[dict[str, Any]] = [
        {"filter": {"createdFrom": "2026-01-01T00:00:00"}, "first": 5},
        {"first": 5, "after": "bm90LWEtY3Vyc29y"},
        {"first": 5, "after": "%%%"},
        {"first": 0},
        {"first": 1000},
    ]
    for variables in cases:
        errors = await practice.staff.errors(ops.WRITEBACKS, variables)
        assert errors and errors[0]["message"] != "Unexpected error.", variables
