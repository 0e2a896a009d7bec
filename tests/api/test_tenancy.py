"""Organizations are walled off from each other; roles limit what a key may do."""

from __future__ import annotations

from typing import Any

import pytest

from app.bootstrap import Container
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, setup_practice
from tests.fixtures.stack import ClientFactory


@pytest.fixture
async def other_practice(
    container: Container, client_for: ClientFactory, opendental_simulator: Any
) -> Practice:
    return await setup_practice(
        container, client_for, opendental_simulator, name="Other Org Dental"
    )


async def test_requests_without_a_valid_key_are_refused(
    practice: Practice, client_for: ClientFactory, api: Any, http_client: Any
) -> None:
    response = await http_client.post(api.http_url, json={"query": "{ me { role } }"})
    assert response.status_code == 401
    response = await client_for("wbk_nope_nope").raw("{ me { role } }")
    assert response.status_code == 401
    response = await client_for("wbk_x_y").raw("{ __schema { types { name } } }")
    assert response.status_code == 401


async def test_a_caller_cannot_read_another_organizations_writebacks(
    practice: Practice, other_practice: Practice
) -> None:
    theirs = (await other_practice.submit())["writeback"]
    page = (await practice.staff.execute(ops.WRITEBACKS, {"first": 50}))["writebacks"]
    assert theirs["id"] not in [e["node"]["id"] for e in page["edges"]]
    errors = await practice.staff.errors(ops.GET_WRITEBACK, {"id": theirs["id"]})
    assert errors and errors[0]["message"] == "no such writeback"
    errors = await practice.staff.errors(
        ops.WRITEBACKS, {"filter": {"locationId": other_practice.location_id}, "first": 5}
    )
    assert errors[0]["message"] == "no such location"
    errors = await practice.staff.errors(
        ops.GET_SETTINGS, {"locationId": other_practice.location_id}
    )
    assert errors[0]["message"] == "no such location"
    notes = (await practice.staff.execute(ops.NOTIFICATIONS, {"unacknowledgedOnly": False}))[
        "notifications"
    ]
    assert all(n["locationId"] == practice.location_id for n in notes)


async def test_a_caller_cannot_change_another_organizations_things(
    practice: Practice, other_practice: Practice
) -> None:
    theirs = (await other_practice.submit(patientRef="99999"))["writeback"]
    submit = await practice.submit(locationId=other_practice.location_id)
    assert submit["__typename"] == "NotFoundError"
    settings = (
        await practice.admin.execute(
            ops.UPDATE_SETTINGS,
            {"input": {"locationId": other_practice.location_id, "amountBasis": "GROSS"}},
        )
    )["updatePaymentWritebackSettings"]
    assert settings["__typename"] == "NotFoundError"
    connection = (
        await practice.admin.execute(
            ops.SET_PMS_CONNECTION,
            {
                "input": {
                    "locationId": other_practice.location_id,
                    "system": "OPEN_DENTAL",
                    "baseUrl": "http://evil.example/api/v1",
                    "developerKey": "x",
                    "customerKey": "y",
                }
            },
        )
    )["setPmsConnection"]
    assert connection["__typename"] == "NotFoundError"
    retry = (await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": theirs["id"]}))[
        "retryWriteback"
    ]
    assert retry["__typename"] == "NotFoundError"
    check = (
        await practice.staff.execute(
            ops.CHECK_CONNECTION, {"locationId": other_practice.location_id}
        )
    )["checkConnection"]
    assert check["__typename"] == "NotFoundError"


async def test_a_partner_key_reads_history_but_cannot_mutate(
    practice: Practice, client_for: ClientFactory
) -> None:
    mine = (await practice.submit())["writeback"]
    key = (
        await practice.admin.execute(ops.CREATE_API_KEY, {"name": "partner", "role": "PARTNER"})
    )["createApiKey"]
    partner = client_for(key["secret"])
    page = (await partner.execute(ops.WRITEBACKS, {"first": 10}))["writebacks"]
    assert [e["node"]["id"] for e in page["edges"]] == [mine["id"]]
    for document, variables, field in [
        (ops.SUBMIT_PAYMENT, {"input": practice.payment_input()}, "submitPayment"),
        (ops.RETRY_WRITEBACK, {"id": mine["id"]}, "retryWriteback"),
        (
            ops.UPDATE_SETTINGS,
            {"input": {"locationId": practice.location_id, "amountBasis": "GROSS"}},
            "updatePaymentWritebackSettings",
        ),
        (ops.CREATE_LOCATION, {"name": "x", "tz": "UTC"}, "createLocation"),
        (ops.CREATE_API_KEY, {"name": "x", "role": "ADMIN"}, "createApiKey"),
    ]:
        result = (await partner.execute(document, variables))[field]
        assert result["__typename"] == "ForbiddenError", field
    errors = await partner.errors(ops.NOTIFICATIONS, {"unacknowledgedOnly": True})
    assert errors


async def test_a_partner_limited_to_some_locations_sees_only_those(
    practice: Practice, client_for: ClientFactory
) -> None:
    second = (
        await practice.admin.execute(
            ops.CREATE_LOCATION, {"name": "Second", "tz": "America/Denver"}
        )
    )["createLocation"]["location"]
    await practice.submit()
    key = (
        await practice.admin.execute(
            ops.CREATE_API_KEY,
            {"name": "partner", "role": "PARTNER", "locationIds": [second["id"]]},
        )
    )["createApiKey"]
    partner = client_for(key["secret"])
    page = (await partner.execute(ops.WRITEBACKS, {"first": 10}))["writebacks"]
    assert page["edges"] == []
    errors = await partner.errors(
        ops.WRITEBACKS, {"filter": {"locationId": practice.location_id}, "first": 5}
    )
    assert errors[0]["message"] == "no such location"


async def test_a_revoked_key_stops_working(practice: Practice, client_for: ClientFactory) -> None:
    key = (await practice.admin.execute(ops.CREATE_API_KEY, {"name": "temp", "role": "STAFF"}))[
        "createApiKey"
    ]
    temp = client_for(key["secret"])
    assert (await temp.raw("{ me { role } }")).status_code == 200
    revoked = (await practice.admin.execute(ops.REVOKE_API_KEY, {"id": key["apiKey"]["id"]}))[
        "revokeApiKey"
    ]
    assert revoked["apiKey"]["revokedAt"]
    assert (await temp.raw("{ me { role } }")).status_code == 401


async def test_keys_are_stored_hashed_and_pms_keys_encrypted(practice: Practice) -> None:
    from sqlalchemy import select

    from domain.persistence.models import ApiKey, PmsConnection

    async with practice.container.uow() as uow:
        keys = (await uow.session.scalars(select(ApiKey))).all()
        connection = await uow.session.scalar(select(PmsConnection))
    assert all(practice.staff.key.split("_", 2)[2] not in k.secret_hash for k in keys)
    assert connection is not None
    assert practice.simulator.customer_key.encode() not in connection.customer_key_encrypted


async def test_pms_keys_are_never_returned(practice: Practice) -> None:
    fields = (
        await practice.admin.execute('{ __type(name: "PmsConnection") { fields { name } } }')
    )["__type"]["fields"]
    assert {f["name"] for f in fields}.isdisjoint({"developerKey", "customerKey"})


async def test_an_invalid_time_zone_is_refused(practice: Practice) -> None:
    result = (
        await practice.admin.execute(ops.CREATE_LOCATION, {"name": "X", "tz": "Mars/Olympus"})
    )["createLocation"]
    assert result["__typename"] == "ValidationError"


async def test_oversized_or_odd_settings_input_is_a_typed_error(practice: Practice) -> None:
    location = (await practice.admin.execute(ops.CREATE_LOCATION, {"name": "X", "tz": "a" * 300}))[
        "createLocation"
    ]
    assert location["__typename"] == "ValidationError"
    connection = (
        await practice.admin.execute(
            ops.SET_PMS_CONNECTION,
            {
                "input": {
                    "locationId": practice.location_id,
                    "system": "OPEN_DENTAL",
                    "baseUrl": "https://example.com/" + "a" * 600,
                    "developerKey": "dev\u0000",
                    "customerKey": "c",
                }
            },
        )
    )["setPmsConnection"]
    assert connection["__typename"] == "ValidationError"
    assert {f["field"] for f in connection["fields"]} == {"baseUrl", "developerKey"}
