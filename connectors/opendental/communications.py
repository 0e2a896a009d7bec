"""Commlogs, patient notes, task notes and documents on Open Dental.

Open Dental has no idempotency key on any of these: the [WB:<marker>] our text carries
(commlog Note, patient note, task note, document Description) is what a retry looks for.
Commlogs have no provider column, so the writeback provider is named in the note (the
domain checks it is still active before writing); documents carry it as ProvNum.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from connectors.opendental import mapping
from connectors.opendental.client import OpenDentalClient
from domain.ports import (
    CommlogPosting,
    DocumentUpload,
    OutcomeUnknownError,
    PatientNoteAppend,
    PermanentError,
    PmsDocument,
    PostedRecord,
    TaskNotePosting,
)

MODES: Final[Mapping[str, str]] = {
    "text": "Text",
    "email": "Email",
    "phone": "Phone",
    "none": "None",
}
SENT_OR_RECEIVED: Final[Mapping[str, str]] = {
    "sent": "Sent",
    "received": "Received",
    "neither": "Neither",
}
# The patient's own note is patientnote.Service ("Service notes"): settable through the API
# since 21.4, where Treatment needs 25.2.14; Medical is the red urgent-medical note and
# FamFinancial the family's billing note, neither of which a conversation belongs in.
PATIENT_NOTE_FIELD: Final = "Service"
# patientnote columns are MySQL TEXT.
NOTE_MAX_BYTES: Final = 65_535

HINT_COMMLOG: Final = (
    "Check the patient's PatNum and the note type (commlog type) in Open Dental, then retry."
)
HINT_PATIENT_NOTE: Final = (
    "The patient's service note in Open Dental is full: shorten it there, then retry."
)
HINT_TASK: Final = "Check the task number in Open Dental (the task must exist), then retry."
HINT_DOCUMENT: Final = (
    "Check the patient's PatNum and the document's image category in Open Dental, then retry."
)


class CommunicationWrites:
    def __init__(self, client: OpenDentalClient) -> None:
        self._client = client

    # ------------------------------------------------------------------ commlogs

    async def post_commlog(self, posting: CommlogPosting) -> PostedRecord:
        body: dict[str, Any] = {
            "PatNum": mapping.parse_pat_num(posting.patient_ref),
            "CommDateTime": posting.occurred_at.strftime(mapping.DATETIME_FORMAT),
            "Mode_": MODES[posting.channel],
            "SentOrReceived": SENT_OR_RECEIVED[posting.direction],
            "Note": posting.note,
        }
        if posting.note_type is not None:
            body["CommType"] = mapping.parse_key(
                posting.note_type, "The note type is not an Open Dental DefNum.", HINT_COMMLOG
            )
        row = await self._client.post(
            "/commlogs", body, action="writing the commlog", hint=HINT_COMMLOG
        )
        if "CommlogNum" not in row:
            raise OutcomeUnknownError("Open Dental stored the commlog but sent no CommlogNum.")
        return PostedRecord(record_id=str(row["CommlogNum"]))

    async def find_commlog(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None:
        rows = await self._client.get_all(
            "/commlogs",
            {"PatNum": mapping.parse_pat_num(patient_ref)},
            action="looking up earlier commlogs",
            hint=HINT_COMMLOG,
        )
        for row in rows:
            if mapping.has_marker(mapping.text_of(row, "Note"), marker):
                return PostedRecord(record_id=str(row["CommlogNum"]))
        return None

    # ------------------------------------------------------------------ patient notes

    async def append_patient_note(self, posting: PatientNoteAppend) -> PostedRecord:
        pat_num = mapping.parse_pat_num(posting.patient_ref)
        current = await self._patient_note(pat_num)
        if mapping.has_marker(current, posting.marker):
            return PostedRecord(record_id=str(pat_num))
        updated = f"{current}\r\n{posting.text}" if current else posting.text
        if len(updated.encode()) > NOTE_MAX_BYTES:
            raise PermanentError(
                "The patient's note in Open Dental has no room left for this note.",
                HINT_PATIENT_NOTE,
            )
        # Open Dental's PUT replaces the whole field (there is no append), so the note was
        # read just before; the posting holds this patient's note exclusively meanwhile.
        await self._client.put(
            f"/patientnotes/{pat_num}",
            {PATIENT_NOTE_FIELD: updated},
            action="appending to the patient's note",
            hint=HINT_PATIENT_NOTE,
        )
        return PostedRecord(record_id=str(pat_num))

    async def find_patient_note(self, posting: PatientNoteAppend) -> PostedRecord | None:
        pat_num = mapping.parse_pat_num(posting.patient_ref)
        if mapping.has_marker(await self._patient_note(pat_num), posting.marker):
            return PostedRecord(record_id=str(pat_num))
        return None

    async def _patient_note(self, pat_num: int) -> str:
        row = await self._client.get_one(
            f"/patientnotes/{pat_num}", action="reading the patient's note", hint=HINT_PATIENT_NOTE
        )
        if row is None:
            raise PermanentError("The patient does not exist in Open Dental.", mapping.HINT_PATIENT)
        return mapping.text_of(row, PATIENT_NOTE_FIELD)

    # ------------------------------------------------------------------ task notes

    async def post_task_note(self, posting: TaskNotePosting) -> PostedRecord:
        task_num = mapping.parse_key(
            posting.task_ref, "The task reference is not an Open Dental TaskNum.", HINT_TASK
        )
        row = await self._client.post(
            "/tasknotes",
            # UserNum 0: the API writes as no Open Dental user, as its own commlogs do.
            {"TaskNum": task_num, "UserNum": 0, "Note": posting.note},
            action="writing the task note",
            hint=HINT_TASK,
            prefer_hint=True,
        )
        if "TaskNoteNum" not in row:
            raise OutcomeUnknownError("Open Dental stored the task note but sent no number.")
        return PostedRecord(record_id=str(row["TaskNoteNum"]))

    async def find_task_note(self, posting: TaskNotePosting) -> PostedRecord | None:
        task_num = mapping.parse_key(
            posting.task_ref, "The task reference is not an Open Dental TaskNum.", HINT_TASK
        )
        rows = await self._client.get_all(
            "/tasknotes", {"TaskNum": task_num}, action="looking up task notes", hint=HINT_TASK
        )
        for row in rows:
            if mapping.has_marker(mapping.text_of(row, "Note"), posting.marker):
                return PostedRecord(record_id=str(row["TaskNoteNum"]))
        return None

    # ------------------------------------------------------------------ documents

    async def upload_document(self, upload: DocumentUpload) -> PostedRecord:
        body: dict[str, Any] = {
            "PatNum": mapping.parse_pat_num(upload.patient_ref),
            "rawBase64": base64.b64encode(upload.content).decode("ascii"),
            "extension": upload.extension,
            "Description": upload.description,
            "DateCreated": upload.created_at.strftime(mapping.DATETIME_FORMAT),
            # The reference page calls DocCategory an ItemName but its example and the
            # other document calls pass a DefNum, which is what is sent (unconfirmed).
            "DocCategory": mapping.parse_key(
                upload.category,
                "The document category is not an Open Dental DefNum.",
                HINT_DOCUMENT,
            ),
            "ImgType": "Document",
        }
        if upload.provider_ref is not None:
            body["ProvNum"] = int(upload.provider_ref)
        row = await self._client.post(
            "/documents/Upload", body, action="uploading the document", hint=HINT_DOCUMENT
        )
        if "DocNum" not in row:
            raise OutcomeUnknownError("Open Dental stored the document but sent no DocNum.")
        return PostedRecord(record_id=str(row["DocNum"]))

    async def find_document(self, upload: DocumentUpload) -> PostedRecord | None:
        for row in await self._documents(mapping.parse_pat_num(upload.patient_ref)):
            if mapping.has_marker(mapping.text_of(row, "Description"), upload.marker):
                return PostedRecord(record_id=str(row["DocNum"]))
        return None

    async def list_documents(self, patient_ref: str, category: str) -> list[PmsDocument]:
        rows = await self._documents(mapping.parse_pat_num(patient_ref))
        found = [
            _document(row)
            for row in rows
            # GET /documents lists mounts too; only documents have a DocNum.
            if row.get("DocNum") and str(row.get("DocCategory")) == category
        ]
        return sorted(found, key=lambda d: d.created_at or datetime.min, reverse=True)

    async def _documents(self, pat_num: int) -> list[dict[str, Any]]:
        return await self._client.get_all(
            "/documents", {"PatNum": pat_num}, action="reading documents", hint=HINT_DOCUMENT
        )


def _document(row: Mapping[str, Any]) -> PmsDocument:
    created = mapping.text_of(row, "DateCreated")
    try:
        created_at: datetime | None = datetime.strptime(created, mapping.DATETIME_FORMAT)
    except ValueError:
        created_at = None
    return PmsDocument(
        record_id=str(row["DocNum"]),
        description=mapping.text_of(row, "Description"),
        category=str(row.get("DocCategory", "")),
        created_at=created_at,
        file_name=mapping.text_of(row, "FileName"),
        image_type=mapping.text_of(row, "ImgType"),
    )
