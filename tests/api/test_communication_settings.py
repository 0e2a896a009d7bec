"""Communication writeback settings: provider, writeback types, document categories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain.persistence.models import SettingsChange
from tests import graphql_ops as ops
from tests.fixtures.practice import (
    Practice,
    definition,
    provider,
    setup_practice,
)
from tests.fixtures.practice import (
    update_communication_settings as update,
)
from tests.fixtures.stack import ClientFactory


async def test_nothing_is_written_back_until_the_practice_allows_it(practice: Practice) -> None:
    s = (
        await practice.staff.execute(
            ops.GET_COMMUNICATION_SETTINGS, {"locationId": practice.location_id}
        )
    )["communicationWritebackSettings"]
    assert (s["version"], s["provider"]) == (0, None)
    assert len(s["types"]) == 9 and not any(t["allowed"] for t in s["types"])
    assert {d["type"] for d in s["documents"]} == {"INSURANCE_VERIFICATION", "ACCOUNT_STATEMENT"}


async def test_a_provider_types_and_categories_from_the_pms_are_saved_and_audited(
    practice: Practice,
) -> None:
    text_type = definition(practice, 27, "TEXT")
    category = definition(practice, 18)
    result = await update(
        practice,
        provider=provider(practice),
        types=[
            {"type": "OUTGOING_SMS", "allowed": True, "noteType": text_type},
            {"type": "PATIENT_NOTE", "allowed": True},
        ],
        documents=[
            {"type": "ACCOUNT_STATEMENT", "writeCategory": category, "readCategory": category}
        ],
    )
    assert result["__typename"] == "UpdateCommunicationWritebackSettingsSuccess", result
    settings = result["settings"]
    assert settings["version"] == 1
    sms = next(t for t in settings["types"] if t["type"] == "OUTGOING_SMS")
    assert (sms["allowed"], sms["noteType"]) == (True, text_type)
    async with practice.container.uow() as uow:
        change = await uow.session.scalar(
            select(SettingsChange).where(SettingsChange.kind == "communication_writeback")
        )
    assert (
        change is not None
        and change.actor_key_id
        and change.after["provider"] == provider(practice)
    )


async def test_allowing_a_type_needs_a_provider_first(practice: Practice) -> None:
    result = await update(
        practice,
        types=[{"type": "OUTGOING_SMS", "allowed": True, "noteType": definition(practice, 27)}],
    )
    assert result["__typename"] == "ValidationError"
    assert [f["field"] for f in result["fields"]] == ["provider"]


async def test_a_hidden_or_unknown_provider_is_refused(practice: Practice) -> None:
    for value in (provider(practice, hidden=True), "424242"):
        result = await update(practice, provider=value)
        assert result["__typename"] == "ValidationError", value
        assert result["fields"][0]["field"] == "provider"


async def test_unknown_note_types_and_categories_are_refused_and_nothing_is_stored(
    practice: Practice,
) -> None:
    result = await update(
        practice,
        provider=provider(practice),
        types=[
            {"type": "INCOMING_CALL", "allowed": True, "noteType": "999999"},
            {"type": "MISSED_CALL", "allowed": True},
            {"type": "TASK_NOTE", "allowed": True, "noteType": definition(practice, 27)},
        ],
        documents=[{"type": "INSURANCE_VERIFICATION", "writeCategory": "888888"}],
    )
    assert result["__typename"] == "ValidationError"
    assert {f["field"] for f in result["fields"]} == {
        "types.incoming_call.noteType",
        "types.missed_call.noteType",
        "types.task_note.noteType",
        "documents.insurance_verification.writeCategory",
    }
    s = (
        await practice.staff.execute(
            ops.GET_COMMUNICATION_SETTINGS, {"locationId": practice.location_id}
        )
    )["communicationWritebackSettings"]
    assert s["version"] == 0


async def test_only_admins_of_the_organization_change_them(
    practice: Practice, container: Any, client_for: ClientFactory
) -> None:
    staff = (
        await practice.staff.execute(
            ops.UPDATE_COMMUNICATION_SETTINGS, {"input": {"locationId": practice.location_id}}
        )
    )["updateCommunicationWritebackSettings"]
    assert staff["__typename"] == "ForbiddenError"
    other = await setup_practice(container, client_for, practice.simulator, "Elsewhere")
    theirs = (
        await other.admin.execute(
            ops.UPDATE_COMMUNICATION_SETTINGS, {"input": {"locationId": practice.location_id}}
        )
    )["updateCommunicationWritebackSettings"]
    assert theirs["__typename"] == "NotFoundError"
    errors = await other.staff.errors(
        ops.GET_COMMUNICATION_SETTINGS, {"locationId": practice.location_id}
    )
    assert errors[0]["message"] == "no such location"
