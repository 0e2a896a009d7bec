"""Pure rules of communication and document submissions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.communication_settings import CommunicationType, DocumentType
from domain.communication_submission import (
    MAX_TEXT_BYTES,
    CallOutcome,
    CommunicationSubmission,
    DocumentSubmission,
    control_characters,
    entry_body,
    entry_text,
    normalize_text,
    validate_communication,
    validate_document,
)
from domain.errors import ValidationFailed

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def submission(**overrides: object) -> CommunicationSubmission:
    values: dict[str, object] = {
        "communication_id": "msg_1",
        "location_id": "loc",
        "patient_ref": "7",
        "type": CommunicationType.OUTGOING_SMS,
        "occurred_at": NOW,
        "text": "Hi",
    }
    values.update(overrides)
    return CommunicationSubmission(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb", "a\r\nb"),
        ("a\rb", "a\r\nb"),
        ("a\r\nb", "a\r\nb"),
        ("a  \nb\t\n\n", "a\r\nb"),
    ],
)
def test_line_endings_become_crlf_and_trailing_space_goes(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_tabs_and_line_breaks_are_not_control_characters_but_others_are() -> None:
    assert control_characters("a\tb\r\nc") == []
    assert control_characters("a\x00b\x1bc\x7f") == ["U+0000", "U+001B", "U+007F"]


def test_text_exactly_at_the_limit_is_kept_and_one_byte_more_is_refused() -> None:
    assert validate_communication(submission(text="x" * MAX_TEXT_BYTES), False, NOW)
    with pytest.raises(ValidationFailed) as refused:
        validate_communication(submission(text="x" * (MAX_TEXT_BYTES + 1)), False, NOW)
    assert refused.value.errors[0].field == "text"


def test_multibyte_text_is_measured_in_bytes() -> None:
    with pytest.raises(ValidationFailed):
        validate_communication(submission(text="é" * (MAX_TEXT_BYTES // 2 + 1)), False, NOW)


def test_the_entry_names_the_call_the_provider_and_carries_the_reference() -> None:
    valid = validate_communication(
        submission(
            type=CommunicationType.INCOMING_CALL,
            text="Asked to move the visit",
            call_duration_seconds=61,
            call_outcome=CallOutcome.ANSWERED,
        ),
        True,
        NOW,
    )
    assert entry_text(entry_body(valid), "[WB:abc]", "msg_1", "3").split("\r\n") == [
        "Incoming call (1 min 1 s, answered):",
        "Asked to move the visit",
        "[WB:abc] ref msg_1 provider 3",
    ]


def test_the_same_content_has_the_same_fingerprint_and_other_text_another() -> None:
    a = validate_communication(submission(), False, NOW).fingerprint
    assert a == validate_communication(submission(text="Hi\n"), False, NOW).fingerprint
    assert a != validate_communication(submission(text="Hello"), False, NOW).fingerprint


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_communication(submission(occurred_at=datetime(2026, 1, 1)), False, NOW)
    assert refused.value.errors[0].field == "occurredAt"


def document(content: bytes, content_type: str = "application/pdf") -> DocumentSubmission:
    return DocumentSubmission(
        document_id="doc_1",
        location_id="loc",
        patient_ref="7",
        type=DocumentType.ACCOUNT_STATEMENT,
        content_type=content_type,
        content=content,
        description="November statement",
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [
        (b"%PDF-1.7 ...", "application/pdf", ".pdf"),
        (b"\xff\xd8\xff\xe0 ...", "image/jpeg", ".jpg"),
        (b"\x89PNG\r\n\x1a\n ...", "image/png", ".png"),
        (b"II*\x00 ...", "image/tiff", ".tif"),
    ],
)
def test_a_document_of_an_accepted_type_gets_its_extension(
    content: bytes, content_type: str, extension: str
) -> None:
    assert validate_document(document(content, content_type), True, 1000).extension == extension


def test_a_document_whose_bytes_are_not_its_declared_type_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_document(document(b"<html>", "application/pdf"), True, 1000)
    assert refused.value.errors[0].field == "content"
