"""Communications, notes and documents, end to end: GraphQL -> arq worker -> Open Dental
simulator over HTTP, on the same engine (and test helpers) as payments."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.bootstrap import Container
from tests import graphql_ops as ops
from tests.fixtures.practice import (
    PDF,
    PNG,
    Practice,
    definition,
    provider,
    update_communication_settings,
)
from tests.fixtures.stack import Api
from tests.fixtures.ws import connect, subscribe, wait_until_listening

pytestmark = pytest.mark.usefixtures("worker")

COMMLOGS = 27
IMAGE_CATEGORIES = 18
# Each commlog-written type: the commlog type it is mapped to here, Mode_, SentOrReceived.
COMMLOG_TYPES = {
    "OUTGOING_SMS": ("Text", "Text", "Sent"),
    "INCOMING_SMS": ("Text", "Text", "Received"),
    "OUTGOING_EMAIL": ("Misc", "Email", "Sent"),
    "INCOMING_CALL": ("Appointment Related", "Phone", "Received"),
    "OUTGOING_CALL": ("Appointment Related", "Phone", "Sent"),
    "MISSED_CALL": ("Recall", "Phone", "Received"),
    "INSURANCE_VERIFICATION_NOTE": ("Financial", "None", "Neither"),
}
ALL_TYPES = [*COMMLOG_TYPES, "PATIENT_NOTE", "TASK_NOTE"]
DOCUMENT_CATEGORIES = {
    "INSURANCE_VERIFICATION": ("Documents", "Claim Attachments"),
    "ACCOUNT_STATEMENT": ("Statements", "Statements"),
}


def _extra(kind: str) -> dict[str, Any]:
    """What a submission of the type needs besides the defaults."""
    if kind == "TASK_NOTE":
        return {"taskRef": "1"}
    if kind in ("INCOMING_CALL", "OUTGOING_CALL"):
        return {"callDurationSeconds": 200, "callOutcome": "ANSWERED"}
    return {}


async def allow(practice: Practice, *allowed: str) -> None:
    """Allows the given types (and maps both document types) for the practice's provider."""
    result = await update_communication_settings(
        practice,
        provider=provider(practice),
        types=[
            {
                "type": kind,
                "allowed": kind in allowed,
                "noteType": definition(practice, COMMLOGS, name=COMMLOG_TYPES[kind][0])
                if kind in COMMLOG_TYPES
                else None,
            }
            for kind in ALL_TYPES
        ],
        documents=[
            {
                "type": kind,
                "writeCategory": definition(practice, IMAGE_CATEGORIES, name=write)
                if kind in allowed
                else None,
                "readCategory": definition(practice, IMAGE_CATEGORIES, name=read),
            }
            for kind, (write, read) in DOCUMENT_CATEGORIES.items()
        ],
    )
    assert result["__typename"] == "UpdateCommunicationWritebackSettingsSuccess", result


def writes_with(practice: Practice, marker: str) -> list[dict[str, Any]]:
    """Every commlog, task note, patient note and document carrying the marker."""
    state = practice.simulator.state
    tag = f"[WB:{marker}]"
    notes = [n for n in state.patient_notes.values() if tag in n["Service"]]
    return [
        *(c for c in state.commlogs if tag in c["Note"]),
        *(t for t in state.tasknotes if tag in t["Note"]),
        *notes,
        *(d for d in state.documents if tag in d["Description"]),
    ]


def nothing_written(practice: Practice) -> bool:
    state = practice.simulator.state
    return not (state.post_counts() or state.put_counts())


@pytest.mark.parametrize("kind", list(COMMLOG_TYPES))
async def test_an_allowed_type_is_written_once_as_a_commlog_of_its_mapped_type_and_mode(
    practice: Practice, kind: str
) -> None:
    await allow(practice, kind)
    submitted = await practice.submit_communication(type=kind, **_extra(kind))
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")

    [commlog] = writes_with(practice, done["marker"])
    type_name, mode, direction = COMMLOG_TYPES[kind]
    assert commlog["commType"] == type_name
    assert (commlog["Mode_"], commlog["SentOrReceived"]) == (mode, direction)
    assert f"provider {provider(practice)}" in commlog["Note"]
    assert "Your appointment is tomorrow at 9:00." in commlog["Note"]
    assert str(commlog["CommlogNum"]) == done["pmsRecordId"]
    assert done["communication"]["provider"] == provider(practice)


async def test_a_missed_call_says_so_in_the_note_and_a_call_carries_its_duration(
    practice: Practice,
) -> None:
    await allow(practice, "MISSED_CALL", "OUTGOING_CALL")
    missed = await practice.submit_communication(type="MISSED_CALL", text="")
    call = await practice.submit_communication(
        type="OUTGOING_CALL", text="Confirmed", callDurationSeconds=75, callOutcome="VOICEMAIL"
    )
    for submitted, heading in (
        (missed, "Missed call (no answer)"),
        (call, "Outgoing call (1 min 15 s, voicemail)"),
    ):
        done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
        [commlog] = writes_with(practice, done["marker"])
        assert commlog["Note"].startswith(heading)


async def test_a_patient_note_is_appended_keeping_what_the_office_wrote(
    practice: Practice,
) -> None:
    await allow(practice, "PATIENT_NOTE")
    practice.simulator.state.patient_note(1)["Service"] = "Prefers mornings."
    first = await practice.submit_communication(type="PATIENT_NOTE", text="Asked about whitening")
    await practice.wait_for_status(first["writeback"]["id"], "SUCCEEDED")
    second = await practice.submit_communication(type="PATIENT_NOTE", text="Line one\nLine two")
    done = await practice.wait_for_status(second["writeback"]["id"], "SUCCEEDED")

    note = practice.simulator.state.patient_note(1)["Service"]
    assert note.startswith("Prefers mornings.\r\nNote:\r\nAsked about whitening\r\n")
    assert "Line one\r\nLine two" in note
    assert note.count(f"[WB:{done['marker']}]") == 1
    assert f"[WB:{done['marker']}] ref {second['writeback']['sourceId']} provider " in note
    assert done["pmsRecordId"] == "1"


async def test_patient_notes_submitted_together_are_all_kept(practice: Practice) -> None:
    await allow(practice, "PATIENT_NOTE")
    submitted = await asyncio.gather(
        *(practice.submit_communication(type="PATIENT_NOTE", text=f"note {i}") for i in range(4))
    )
    for s in submitted:
        await practice.wait_for_status(s["writeback"]["id"], "SUCCEEDED")
    note = practice.simulator.state.patient_note(1)["Service"]
    assert all(f"note {i}" in note for i in range(4))


async def test_a_task_note_is_written_to_the_task(practice: Practice) -> None:
    await allow(practice, "TASK_NOTE")
    submitted = await practice.submit_communication(type="TASK_NOTE", taskRef="2")
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    [task_note] = writes_with(practice, done["marker"])
    assert task_note["TaskNum"] == 2
    assert task_note["Note"].endswith(f"provider {provider(practice)}")
    assert str(task_note["TaskNoteNum"]) == done["pmsRecordId"]


async def test_a_task_note_for_a_task_the_pms_does_not_have_fails_with_a_hint(
    practice: Practice,
) -> None:
    await allow(practice, "TASK_NOTE")
    submitted = await practice.submit_communication(type="TASK_NOTE", taskRef="999")
    failed = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")
    assert "task" in failed["failureHint"].lower()


@pytest.mark.parametrize("kind", ALL_TYPES)
async def test_a_disallowed_type_is_recorded_as_skipped_and_nothing_is_written(
    practice: Practice, kind: str
) -> None:
    await allow(practice, *(k for k in ALL_TYPES if k != kind))
    submitted = await practice.submit_communication(type=kind, **_extra(kind))
    assert submitted["writeback"]["status"] == "SKIPPED"
    await asyncio.sleep(0.3)
    assert nothing_written(practice)


@pytest.mark.parametrize("kind", ALL_TYPES)
async def test_a_write_that_times_out_after_the_pms_committed_is_still_written_once(
    practice: Practice, kind: str
) -> None:
    await allow(practice, kind)
    practice.simulator.state.faults.fail_writes_after_commit(count=1, status=502)
    submitted = await practice.submit_communication(type=kind, **_extra(kind))
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")

    written = writes_with(practice, done["marker"])
    assert len(written) == 1
    if kind == "PATIENT_NOTE":
        assert written[0]["Service"].count(f"[WB:{done['marker']}]") == 1
    assert [a["outcome"] for a in done["attempts"]] == ["OUTCOME_UNKNOWN", "FOUND_EXISTING"]


async def test_the_same_communication_submitted_twice_is_written_once(
    practice: Practice,
) -> None:
    await allow(practice, "INCOMING_SMS")
    values = practice.communication_input(type="INCOMING_SMS")
    first = await practice.staff.execute(ops.SUBMIT_COMMUNICATION, {"input": values})
    again = await practice.staff.execute(ops.SUBMIT_COMMUNICATION, {"input": values})
    writeback = first["submitCommunication"]["writeback"]
    assert again["submitCommunication"]["replayed"] is True
    assert again["submitCommunication"]["writeback"]["id"] == writeback["id"]
    done = await practice.wait_for_status(writeback["id"], "SUCCEEDED")
    assert len(writes_with(practice, done["marker"])) == 1

    changed = (
        await practice.staff.execute(
            ops.SUBMIT_COMMUNICATION, {"input": {**values, "text": "other text"}}
        )
    )["submitCommunication"]
    assert changed["__typename"] == "ConflictError"


async def test_a_provider_hidden_after_it_was_chosen_fails_the_entry_with_a_notice(
    practice: Practice,
) -> None:
    await allow(practice, "OUTGOING_SMS")
    chosen = int(provider(practice))
    practice.simulator.state.provider(chosen)["IsHidden"] = "true"
    submitted = await practice.submit_communication()
    failed = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")

    assert "provider" in failed["failureReason"]
    assert "writeback provider" in failed["failureHint"]
    assert nothing_written(practice)
    notices = (
        await practice.staff.execute(
            ops.NOTIFICATIONS, {"locationId": practice.location_id, "unacknowledgedOnly": True}
        )
    )["notifications"]
    assert [(n["writebackId"], n["hint"]) for n in notices] == [
        (failed["id"], failed["failureHint"])
    ]


# ---------------------------------------------------------------------------- documents


@pytest.mark.parametrize("kind", list(DOCUMENT_CATEGORIES))
async def test_a_document_is_uploaded_once_into_its_write_category(
    practice: Practice, kind: str
) -> None:
    await allow(practice, kind)
    submitted = await practice.submit_document(type=kind)
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")

    [document] = writes_with(practice, done["marker"])
    assert document["docCategory"] == DOCUMENT_CATEGORIES[kind][0]
    assert str(document["ProvNum"]) == provider(practice)
    assert practice.simulator.state.document_bytes[document["DocNum"]] == PDF
    assert done["document"]["size"] == len(PDF)


@pytest.mark.parametrize("kind", list(DOCUMENT_CATEGORIES))
async def test_a_document_type_without_a_write_category_is_skipped(
    practice: Practice, kind: str
) -> None:
    await allow(practice)
    submitted = await practice.submit_document(type=kind)
    assert submitted["writeback"]["status"] == "SKIPPED"
    await asyncio.sleep(0.3)
    assert nothing_written(practice)


@pytest.mark.parametrize("kind", list(DOCUMENT_CATEGORIES))
async def test_an_upload_that_times_out_after_the_pms_stored_it_is_uploaded_once(
    practice: Practice, kind: str
) -> None:
    await allow(practice, kind)
    practice.simulator.state.faults.fail_writes_after_commit(count=1, status=502)
    submitted = await practice.submit_document(type=kind, contentType="image/png", content=PNG)
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    assert len(writes_with(practice, done["marker"])) == 1
    assert practice.simulator.state.post_count("documents/Upload") == 1


async def test_reading_lists_the_patients_documents_of_the_read_category_only(
    practice: Practice,
) -> None:
    await allow(practice, "ACCOUNT_STATEMENT")
    state = practice.simulator.state
    statements = int(definition(practice, IMAGE_CATEGORIES, name="Statements"))
    state.add_document(1, PDF, extension=".pdf", doc_category=statements, description="Nov")
    state.add_document(2, PDF, extension=".pdf", doc_category=statements, description="Other")
    other = int(definition(practice, IMAGE_CATEGORIES, name="Radiographs"))
    state.add_document(1, PNG, extension=".png", doc_category=other, description="X-ray")

    result = (
        await practice.staff.execute(
            ops.PATIENT_DOCUMENTS,
            {"locationId": practice.location_id, "patientRef": "1", "type": "ACCOUNT_STATEMENT"},
        )
    )["patientDocuments"]
    assert result["__typename"] == "PatientDocumentsSuccess", result
    assert [d["description"] for d in result["documents"]] == ["Nov"]


async def test_staff_watching_a_location_see_a_communication_written(
    practice: Practice, api: Api, container: Container
) -> None:
    await allow(practice, "INCOMING_CALL")
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(container, practice.location_id)
        submitted = (await practice.submit_communication(type="INCOMING_CALL"))["writeback"]
        events = await sub.events_until("SUCCEEDED")
    assert [e["status"] for e in events] == ["QUEUED", "POSTING", "SUCCEEDED"]
    assert {(e["writebackId"], e["kind"]) for e in events} == {(submitted["id"], "COMMUNICATION")}


async def test_history_lists_communications_and_documents_by_kind_with_their_details(
    practice: Practice,
) -> None:
    await allow(practice, "OUTGOING_EMAIL", "ACCOUNT_STATEMENT")
    email = (await practice.submit_communication(type="OUTGOING_EMAIL"))["writeback"]
    document = (await practice.submit_document(type="ACCOUNT_STATEMENT"))["writeback"]
    await practice.submit()

    async def of_kind(kind: str) -> list[dict[str, Any]]:
        page = await practice.staff.execute(ops.WRITEBACKS, {"filter": {"kind": kind}, "first": 10})
        return [e["node"] for e in page["writebacks"]["edges"]]

    [listed_email] = await of_kind("COMMUNICATION")
    [listed_document] = await of_kind("DOCUMENT")
    assert listed_email["id"] == email["id"]
    assert listed_email["communication"]["channel"] == "EMAIL"
    assert listed_email["communication"]["direction"] == "SENT"
    assert listed_email["payment"] is None
    assert listed_document["id"] == document["id"]
    assert listed_document["document"]["contentType"] == "application/pdf"


async def test_the_commlog_time_is_the_offices_local_time(practice: Practice) -> None:
    await allow(practice, "INCOMING_SMS")
    # The practice is in America/Chicago: 15:30 UTC on a winter day is 09:30 there.
    submitted = await practice.submit_communication(
        type="INCOMING_SMS", occurredAt="2026-01-15T15:30:00+00:00"
    )
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    [commlog] = writes_with(practice, done["marker"])
    assert commlog["CommDateTime"] == "2026-01-15 09:30:00"
    assert done["occurredOn"] == "2026-01-15"


async def test_a_patient_note_with_no_room_left_fails_with_a_hint_and_is_not_cut(
    practice: Practice,
) -> None:
    await allow(practice, "PATIENT_NOTE")
    full = "x" * 65_500
    practice.simulator.state.patient_note(1)["Service"] = full
    submitted = await practice.submit_communication(type="PATIENT_NOTE")
    failed = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")
    assert "shorten" in failed["failureHint"]
    assert practice.simulator.state.patient_note(1)["Service"] == full


async def test_an_entry_failed_for_its_provider_is_retried_under_the_provider_chosen_since(
    practice: Practice,
) -> None:
    await allow(practice, "OUTGOING_SMS", "INSURANCE_VERIFICATION")
    state = practice.simulator.state
    first = int(provider(practice))
    state.provider(first)["IsHidden"] = "true"
    sms = (await practice.submit_communication())["writeback"]
    document = (await practice.submit_document())["writeback"]
    for item in (sms, document):
        await practice.wait_for_status(item["id"], "FAILED")

    replacement = provider(practice)  # the first visible provider now
    assert replacement != str(first)
    result = await update_communication_settings(
        practice,
        provider=replacement,
        types=[{"type": "OUTGOING_SMS", "allowed": True, "noteType": definition(practice, 27)}],
        documents=[{"type": "INSURANCE_VERIFICATION", "writeCategory": definition(practice, 18)}],
    )
    assert result["__typename"] == "UpdateCommunicationWritebackSettingsSuccess", result
    for item in (sms, document):
        await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": item["id"]})
    done_sms = await practice.wait_for_status(sms["id"], "SUCCEEDED")
    done_document = await practice.wait_for_status(document["id"], "SUCCEEDED")

    [commlog] = writes_with(practice, done_sms["marker"])
    assert commlog["Note"].endswith(f"provider {replacement}")
    [uploaded] = writes_with(practice, done_document["marker"])
    assert str(uploaded["ProvNum"]) == replacement
    notices = (
        await practice.staff.execute(
            """query($locationId: ID) {
                 notifications(locationId: $locationId, unacknowledgedOnly: false) {
                   writebackIds resolvedAt
                 }
               }""",
            {"locationId": practice.location_id},
        )
    )["notifications"]
    assert [sorted(n["writebackIds"]) for n in notices] == [sorted([sms["id"], document["id"]])]
    assert notices[0]["resolvedAt"]
