"""Submitting communications and documents: bad input is a typed error and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import graphql_ops as ops
from tests.fixtures.practice import (
    PDF,
    PNG,
    Practice,
    definition,
    provider,
    setup_practice,
    update_communication_settings,
)
from tests.fixtures.stack import ClientFactory

MAX_DOCUMENT_BYTES = 1024


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_document_bytes": MAX_DOCUMENT_BYTES}


@pytest.fixture
async def allowed(practice: Practice) -> Practice:
    result = await update_communication_settings(
        practice,
        provider=provider(practice),
        types=[
            {"type": "OUTGOING_SMS", "allowed": True, "noteType": definition(practice, 27)},
            {"type": "TASK_NOTE", "allowed": True},
        ],
        documents=[{"type": "INSURANCE_VERIFICATION", "writeCategory": definition(practice, 18)}],
    )
    assert result["__typename"] == "UpdateCommunicationWritebackSettingsSuccess", result
    return practice


async def nothing_stored(practice: Practice) -> bool:
    history = (await practice.staff.execute(ops.WRITEBACKS, {"first": 10}))["writebacks"]
    return not history["edges"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"text": "Hello\x00there"}, "text"),
        ({"text": "bell \x07"}, "text"),
        ({"text": "x" * 70_000}, "text"),
        ({"text": "   "}, "text"),
        ({"patientRef": "01"}, "patientRef"),
        ({"communicationId": "has space"}, "communicationId"),
        ({"occurredAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "occurredAt"),
        ({"callDurationSeconds": 30}, "callDurationSeconds"),
        ({"type": "TASK_NOTE"}, "taskRef"),
        ({"type": "MISSED_CALL", "callOutcome": "ANSWERED"}, "callOutcome"),
    ],
)
async def test_an_invalid_communication_is_a_validation_error_and_nothing_is_stored(
    allowed: Practice, overrides: dict[str, Any], field: str
) -> None:
    result = await allowed.submit_communication(**overrides)
    assert result["__typename"] == "ValidationError", result
    assert [f["field"] for f in result["fields"]] == [field]
    assert await nothing_stored(allowed)


async def test_line_endings_become_crlf_and_text_is_kept_whole(allowed: Practice) -> None:
    text = "first\nsecond\r\nthird\r" + "y" * 60_000
    result = await allowed.submit_communication(text=text)
    assert result["__typename"] == "SubmitWritebackSuccess", result
    kept = result["writeback"]["communication"]["text"]
    assert kept == "first\r\nsecond\r\nthird\r\n" + "y" * 60_000


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        (PDF, "text/html", "contentType"),
        (PNG, "application/pdf", "content"),
        (b"%PDF-" + b"x" * MAX_DOCUMENT_BYTES, "application/pdf", "content"),
        (b"", "application/pdf", "content"),
    ],
)
async def test_a_wrong_type_or_oversized_document_is_refused_and_nothing_is_stored(
    allowed: Practice, content: bytes, content_type: str, field: str
) -> None:
    result = await allowed.submit_document(content=content, contentType=content_type)
    assert result["__typename"] == "ValidationError", result
    assert [f["field"] for f in result["fields"]] == [field]
    assert await nothing_stored(allowed)


async def test_document_content_that_is_not_base64_is_refused(allowed: Practice) -> None:
    result = await allowed.submit_document(contentBase64="not base64!")
    assert result["__typename"] == "ValidationError"
    assert result["fields"][0]["field"] == "contentBase64"
    assert await nothing_stored(allowed)


async def test_staff_of_another_organization_cannot_submit_for_the_location(
    allowed: Practice, container: Any, client_for: ClientFactory, opendental_simulator: Any
) -> None:
    other = await setup_practice(container, client_for, opendental_simulator, name="Other")
    result = (
        await other.staff.execute(
            ops.SUBMIT_COMMUNICATION, {"input": allowed.communication_input()}
        )
    )["submitCommunication"]
    assert result["__typename"] == "NotFoundError"
    documents = (
        await other.staff.execute(
            ops.PATIENT_DOCUMENTS,
            {"locationId": allowed.location_id, "patientRef": "1", "type": "ACCOUNT_STATEMENT"},
        )
    )["patientDocuments"]
    assert documents["__typename"] == "NotFoundError"
    assert await nothing_stored(allowed)


async def test_a_partner_can_neither_submit_nor_read_documents(
    allowed: Practice, client_for: ClientFactory
) -> None:
    key = (await allowed.admin.execute(ops.CREATE_API_KEY, {"name": "p", "role": "PARTNER"}))[
        "createApiKey"
    ]["secret"]
    partner = client_for(key)
    submitted = (
        await partner.execute(ops.SUBMIT_COMMUNICATION, {"input": allowed.communication_input()})
    )["submitCommunication"]
    documents = (
        await partner.execute(
            ops.PATIENT_DOCUMENTS,
            {"locationId": allowed.location_id, "patientRef": "1", "type": "ACCOUNT_STATEMENT"},
        )
    )["patientDocuments"]
    assert (submitted["__typename"], documents["__typename"]) == (
        "ForbiddenError",
        "ForbiddenError",
    )
    assert await nothing_stored(allowed)
