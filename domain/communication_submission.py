"""Communications, notes and documents as the platform submits them (pure rules).

A communication's type fixes how the PMS files it: the channel (text, email, phone, none)
and the direction (sent, received, neither). Text is kept whole: line endings become the
PMS's (CRLF, Open Dental being a Windows application), control characters are refused, and
a text the PMS cannot hold is refused at submission instead of being cut short.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.communication_settings import CommunicationType, DocumentType
from domain.errors import FieldError, ValidationFailed
from domain.payment_submission import PLATFORM_ID, patient_ref_error


class Channel(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    NONE = "none"


class Direction(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    NEITHER = "neither"


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"


CHANNELS: dict[CommunicationType, tuple[Channel, Direction]] = {
    CommunicationType.OUTGOING_SMS: (Channel.TEXT, Direction.SENT),
    CommunicationType.INCOMING_SMS: (Channel.TEXT, Direction.RECEIVED),
    CommunicationType.OUTGOING_EMAIL: (Channel.EMAIL, Direction.SENT),
    CommunicationType.INCOMING_CALL: (Channel.PHONE, Direction.RECEIVED),
    CommunicationType.OUTGOING_CALL: (Channel.PHONE, Direction.SENT),
    # A missed call is a call the practice received but nobody answered; the PMS has no
    # "missed" direction, so the note says so (and its note type can be a "Missed call" one).
    CommunicationType.MISSED_CALL: (Channel.PHONE, Direction.RECEIVED),
    CommunicationType.PATIENT_NOTE: (Channel.NONE, Direction.NEITHER),
    CommunicationType.TASK_NOTE: (Channel.NONE, Direction.NEITHER),
    CommunicationType.INSURANCE_VERIFICATION_NOTE: (Channel.NONE, Direction.NEITHER),
}
CALLS = frozenset(
    {
        CommunicationType.INCOMING_CALL,
        CommunicationType.OUTGOING_CALL,
        CommunicationType.MISSED_CALL,
    }
)
_HEADINGS: dict[CommunicationType, str] = {
    CommunicationType.OUTGOING_SMS: "Text message sent",
    CommunicationType.INCOMING_SMS: "Text message received",
    CommunicationType.OUTGOING_EMAIL: "Email sent",
    CommunicationType.INCOMING_CALL: "Incoming call",
    CommunicationType.OUTGOING_CALL: "Outgoing call",
    CommunicationType.MISSED_CALL: "Missed call",
    CommunicationType.PATIENT_NOTE: "Note",
    CommunicationType.TASK_NOTE: "Task note",
    CommunicationType.INSURANCE_VERIFICATION_NOTE: "Insurance verification",
}

# Open Dental stores notes in MySQL TEXT columns: 65,535 bytes.
MAX_NOTE_BYTES = 65_535
# Room the heading and the reference line take in the note.
_NOTE_OVERHEAD_BYTES = 256
MAX_TEXT_BYTES = MAX_NOTE_BYTES - _NOTE_OVERHEAD_BYTES
MAX_CALL_SECONDS = 24 * 3600
_TASK_REF = re.compile(r"^[1-9][0-9]{0,17}$")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


@dataclass(frozen=True)
class CommunicationSubmission:
    communication_id: str
    location_id: str
    patient_ref: str
    type: CommunicationType
    occurred_at: datetime
    text: str
    call_duration_seconds: int | None = None
    call_outcome: CallOutcome | None = None
    # The PMS task a task note belongs to (Open Dental TaskNum).
    task_ref: str | None = None


@dataclass(frozen=True)
class ValidCommunication:
    submission: CommunicationSubmission
    text: str  # normalised: CRLF line endings, no trailing whitespace

    @property
    def fingerprint(self) -> str:
        s = self.submission
        return _fingerprint(
            {
                "patient_ref": s.patient_ref,
                "type": s.type.value,
                "occurred_at": s.occurred_at.isoformat(),
                "text": self.text,
                "call_duration_seconds": s.call_duration_seconds,
                "call_outcome": s.call_outcome.value if s.call_outcome else None,
                "task_ref": s.task_ref,
            }
        )


def normalize_text(text: str) -> str:
    """CRLF line endings, as Open Dental's own text boxes write them."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\r\n".join(line.rstrip() for line in lines).strip("\r\n")


def control_characters(text: str) -> list[str]:
    """Control characters other than tab and line breaks, as U+XXXX."""
    found = {
        f"U+{ord(c):04X}"
        for c in text
        if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS
    }
    return sorted(found)


def text_errors(field: str, text: str, max_bytes: int) -> list[FieldError]:
    controls = control_characters(text)
    if controls:
        return [FieldError(field, f"contains control characters ({', '.join(controls[:5])})")]
    size = len(normalize_text(text).encode())
    if size > max_bytes:
        return [
            FieldError(
                field,
                f"is {size} bytes; the PMS holds at most {max_bytes} here, so split it into "
                "several entries (it is never cut short)",
            )
        ]
    return []


def validate_communication(
    s: CommunicationSubmission, numeric_patient_ids: bool, now: datetime
) -> ValidCommunication:
    errors = _identity_errors(
        "communicationId", s.communication_id, s.patient_ref, numeric_patient_ids
    )
    if s.occurred_at.tzinfo is None:
        errors.append(FieldError("occurredAt", "must carry a time zone offset"))
    elif (s.occurred_at - now).total_seconds() > 300:
        errors.append(FieldError("occurredAt", "must not be in the future"))
    errors += text_errors("text", s.text, MAX_TEXT_BYTES)
    if not normalize_text(s.text) and s.type not in CALLS:
        errors.append(FieldError("text", "must not be empty"))
    if s.type in CALLS:
        if s.call_duration_seconds is not None and not (
            0 <= s.call_duration_seconds <= MAX_CALL_SECONDS
        ):
            errors.append(FieldError("callDurationSeconds", "must be between 0 and 86400"))
        if s.type is CommunicationType.MISSED_CALL and s.call_outcome is CallOutcome.ANSWERED:
            errors.append(FieldError("callOutcome", "a missed call was not answered"))
    elif s.call_duration_seconds is not None or s.call_outcome is not None:
        errors.append(FieldError("callDurationSeconds", "only calls have a duration or outcome"))
    if s.type is CommunicationType.TASK_NOTE:
        if s.task_ref is None or not _TASK_REF.match(s.task_ref):
            errors.append(FieldError("taskRef", "a task note needs the PMS task's number"))
    elif s.task_ref is not None:
        errors.append(FieldError("taskRef", "is only for task notes"))
    if errors:
        raise ValidationFailed(errors)
    return ValidCommunication(submission=s, text=normalize_text(s.text))


def _identity_errors(
    id_field: str, platform_id: str, patient_ref: str, numeric_patient_ids: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not PLATFORM_ID.match(platform_id):
        errors.append(FieldError(id_field, "must be 1-128 letters, digits or . _ : - characters"))
    ref_error = patient_ref_error(patient_ref, numeric_patient_ids)
    if ref_error:
        errors.append(ref_error)
    return errors


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def entry_body(valid: ValidCommunication) -> str:
    """What the PMS entry says: a heading line, then the text."""
    s = valid.submission
    heading = _HEADINGS[s.type]
    details = []
    if s.type in CALLS:
        if s.call_duration_seconds is not None:
            details.append(_duration(s.call_duration_seconds))
        outcome = s.call_outcome or (
            CallOutcome.NO_ANSWER if s.type is CommunicationType.MISSED_CALL else None
        )
        if outcome is not None:
            details.append(outcome.value.replace("_", " "))
    if details:
        heading = f"{heading} ({', '.join(details)})"
    return "\r\n".join([f"{heading}:", valid.text] if valid.text else [heading])


def entry_text(body: str, tag: str, communication_id: str, provider: str | None) -> str:
    """The body, then our reference line.

    Open Dental commlogs have no provider column, so the writeback provider is named on the
    reference line; the reference tag is what a retry searches for. It is composed when the
    entry is written, so a retry after the practice chose another provider names the new one.
    """
    reference = f"{tag} ref {communication_id}"
    if provider:
        reference += f" provider {provider}"
    return f"{body}\r\n{reference}"


# ---------------------------------------------------------------------------- documents

# Content types the PMS files as documents, with the bytes every such file starts with.
DOCUMENT_FORMATS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "application/pdf": (".pdf", (b"%PDF-",)),
    "image/jpeg": (".jpg", (b"\xff\xd8\xff",)),
    "image/png": (".png", (b"\x89PNG\r\n\x1a\n",)),
    "image/tiff": (".tif", (b"II*\x00", b"MM\x00*")),
}
MAX_DESCRIPTION_CHARS = 200


@dataclass(frozen=True)
class DocumentSubmission:
    document_id: str
    location_id: str
    patient_ref: str
    type: DocumentType
    content_type: str
    content: bytes
    description: str
    created_at: datetime


@dataclass(frozen=True)
class ValidDocument:
    submission: DocumentSubmission
    extension: str
    sha256: str

    @property
    def fingerprint(self) -> str:
        s = self.submission
        return _fingerprint(
            {
                "patient_ref": s.patient_ref,
                "type": s.type.value,
                "content_type": s.content_type,
                "sha256": self.sha256,
                "description": s.description,
                "created_at": s.created_at.isoformat(),
            }
        )


def validate_document(
    s: DocumentSubmission, numeric_patient_ids: bool, max_bytes: int
) -> ValidDocument:
    errors = _identity_errors("documentId", s.document_id, s.patient_ref, numeric_patient_ids)
    fmt = DOCUMENT_FORMATS.get(s.content_type)
    if fmt is None:
        errors.append(
            FieldError("contentType", f"must be one of {', '.join(sorted(DOCUMENT_FORMATS))}")
        )
    if not s.content:
        errors.append(FieldError("content", "is empty"))
    elif len(s.content) > max_bytes:
        errors.append(
            FieldError("content", f"is {len(s.content)} bytes; at most {max_bytes} are accepted")
        )
    elif fmt is not None and not s.content.startswith(fmt[1]):
        errors.append(FieldError("content", f"is not a {s.content_type} file"))
    if len(s.description) > MAX_DESCRIPTION_CHARS or control_characters(s.description):
        errors.append(
            FieldError(
                "description",
                f"must be at most {MAX_DESCRIPTION_CHARS} characters without control characters",
            )
        )
    if s.created_at.tzinfo is None:
        errors.append(FieldError("createdAt", "must carry a time zone offset"))
    if errors:
        raise ValidationFailed(errors)
    assert fmt is not None
    return ValidDocument(
        submission=s, extension=fmt[0], sha256=hashlib.sha256(s.content).hexdigest()
    )


def document_description(valid: ValidDocument) -> str:
    """The document's own description, or its type's name when none was given."""
    return (
        valid.submission.description.strip()
        or valid.submission.type.value.replace("_", " ").capitalize()
    )


def _fingerprint(content: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
