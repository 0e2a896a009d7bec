"""The PMS writes one writeback needs, and how each is posted and looked up.

A payment with its fee written separately is one intent with two parts. Parts already
written are remembered on the intent (payload["posted_parts"]), so a retry never writes a
part twice; a part that may have been written is looked up by its marker first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.communication_settings import CommunicationType
from domain.communication_submission import entry_text
from domain.enums import WritebackKind
from domain.money import from_cents
from domain.payment_note import fee_marker, fee_note, tag
from domain.persistence.models import WritebackIntent
from domain.ports import (
    AdjustmentPosting,
    CommlogPosting,
    DocumentUpload,
    InsurancePaymentPosting,
    PatientNoteAppend,
    PaymentPosting,
    PmsConnector,
    PostedRecord,
    RefundPosting,
    TaskNotePosting,
)

PAYMENT = "payment"
INSURANCE_PAYMENT = "insurance_payment"
FEE_ADJUSTMENT = "fee_adjustment"
REFUND = "refund"
COMMLOG = "commlog"
PATIENT_NOTE = "patient_note"
TASK_NOTE = "task_note"
DOCUMENT = "document"

Posting = (
    PaymentPosting
    | InsurancePaymentPosting
    | AdjustmentPosting
    | RefundPosting
    | CommlogPosting
    | PatientNoteAppend
    | TaskNotePosting
    | DocumentUpload
)


@dataclass(frozen=True)
class Part:
    name: str
    posting: Posting
    # Writes under the same key must not overlap (read-then-write of one PMS record).
    exclusive_key: str | None = None


def parts_of(intent: WritebackIntent, document: bytes | None = None) -> list[Part]:
    """`document` is the file of a document writeback (kept apart from the intent row)."""
    p: dict[str, Any] = intent.payload
    if intent.kind == WritebackKind.COMMUNICATION:
        return [_communication_part(intent)]
    if intent.kind == WritebackKind.DOCUMENT:
        assert document is not None, "a document writeback needs its file"
        return [
            Part(
                DOCUMENT,
                DocumentUpload(
                    patient_ref=intent.patient_ref,
                    category=str(p["category"]),
                    content=document,
                    extension=str(p["extension"]),
                    # Open Dental's Description holds 255 characters: at most 200 + the tag.
                    description=f"{p['description']} {tag(intent.marker)}",
                    created_at=datetime.fromisoformat(p["created_local"]),
                    marker=intent.marker,
                    provider_ref=p.get("provider"),
                ),
            )
        ]
    if intent.kind == WritebackKind.REFUND:
        return [
            Part(
                REFUND,
                RefundPosting(
                    patient_ref=intent.patient_ref,
                    original_record_id=str(p["original_record_id"]),
                    marker=intent.marker,
                    note=str(p["note"]),
                ),
            )
        ]
    amount = from_cents(int(p["amount_cents"]))
    parts: list[Part] = []
    if p.get("claim_ref"):
        parts.append(
            Part(
                INSURANCE_PAYMENT,
                InsurancePaymentPosting(
                    patient_ref=intent.patient_ref,
                    claim_ref=str(p["claim_ref"]),
                    amount=amount,
                    pay_date=intent.occurred_on,
                    note=str(p["note"]),
                    marker=intent.marker,
                    pay_type=p.get("pay_type"),
                    check_number=p.get("check_number"),
                ),
            )
        )
    else:
        parts.append(
            Part(
                PAYMENT,
                PaymentPosting(
                    patient_ref=intent.patient_ref,
                    amount=amount,
                    pay_date=intent.occurred_on,
                    note=str(p["note"]),
                    marker=intent.marker,
                    pay_type=p.get("pay_type"),
                    check_number=p.get("check_number"),
                    payment_plan_ref=p.get("payment_plan_ref"),
                ),
            )
        )
    if p.get("fee_adjustment_type") and int(p["fee_cents"]) > 0:
        sign = -1 if p.get("fee_adjustment_sign", "-") == "-" else 1
        parts.append(
            Part(
                FEE_ADJUSTMENT,
                AdjustmentPosting(
                    patient_ref=intent.patient_ref,
                    amount=from_cents(sign * int(p["fee_cents"])),
                    adj_date=intent.occurred_on,
                    adj_type=str(p["fee_adjustment_type"]),
                    note=fee_note(intent.marker, intent.source_id, int(p["fee_cents"])),
                    marker=fee_marker(intent.marker),
                ),
            )
        )
    return parts


def _communication_part(intent: WritebackIntent) -> Part:
    p: dict[str, Any] = intent.payload
    kind = CommunicationType(p["type"])
    note = entry_text(str(p["note_body"]), tag(intent.marker), intent.source_id, p["provider"])
    if kind is CommunicationType.PATIENT_NOTE:
        return Part(
            PATIENT_NOTE,
            PatientNoteAppend(intent.patient_ref, note, intent.marker),
            # Two appends read at once would each write back the note without the other's.
            exclusive_key=f"patient-note:{intent.patient_ref}",
        )
    if kind is CommunicationType.TASK_NOTE:
        return Part(
            TASK_NOTE,
            TaskNotePosting(str(p["task_ref"]), note, intent.marker),
        )
    return Part(
        COMMLOG,
        CommlogPosting(
            patient_ref=intent.patient_ref,
            occurred_at=datetime.fromisoformat(p["occurred_local"]),
            channel=str(p["channel"]),
            direction=str(p["direction"]),
            note_type=p.get("note_type"),
            note=note,
            marker=intent.marker,
        ),
    )


async def post(connector: PmsConnector, part: Part) -> PostedRecord:
    posting = part.posting
    if isinstance(posting, CommlogPosting):
        return await connector.post_commlog(posting)
    if isinstance(posting, PatientNoteAppend):
        return await connector.append_patient_note(posting)
    if isinstance(posting, TaskNotePosting):
        return await connector.post_task_note(posting)
    if isinstance(posting, DocumentUpload):
        return await connector.upload_document(posting)
    if isinstance(posting, PaymentPosting):
        return await connector.post_payment(posting)
    if isinstance(posting, InsurancePaymentPosting):
        return await connector.post_insurance_payment(posting)
    if isinstance(posting, AdjustmentPosting):
        return await connector.post_adjustment(posting)
    return await connector.refund_payment(posting)


async def find(connector: PmsConnector, part: Part, since: date) -> PostedRecord | None:
    posting = part.posting
    if isinstance(posting, CommlogPosting):
        return await connector.find_commlog(posting.patient_ref, posting.marker, since)
    if isinstance(posting, PatientNoteAppend):
        return await connector.find_patient_note(posting)
    if isinstance(posting, TaskNotePosting):
        return await connector.find_task_note(posting)
    if isinstance(posting, DocumentUpload):
        return await connector.find_document(posting)
    if isinstance(posting, PaymentPosting):
        return await connector.find_payment(posting.patient_ref, posting.marker, since)
    if isinstance(posting, InsurancePaymentPosting):
        return await connector.find_insurance_payment(posting, since)
    if isinstance(posting, AdjustmentPosting):
        return await connector.find_adjustment(posting.patient_ref, posting.marker, since)
    return await connector.find_refund(posting, since)
