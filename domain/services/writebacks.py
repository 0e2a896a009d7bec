"""Submitting work, retrying failures, and reading writeback history."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from domain.enums import PaymentSource, PmsSystem, WritebackKind, WritebackStatus
from domain.errors import (
    ConnectionNotConfigured,
    FieldError,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from domain.payment_note import marker_for, payment_note, refund_note
from domain.payment_settings import decide_payment
from domain.payment_submission import PLATFORM_ID, PaymentSubmission, ValidPayment, validate_payment
from domain.persistence.base import new_id, utcnow
from domain.persistence.models import WritebackAttempt, WritebackIntent
from domain.persistence.repositories import HistoryFilter
from domain.persistence.uow import UnitOfWork
from domain.ports import ConnectorRegistry
from domain.principal import Principal
from domain.services.communication_settings import (
    current_settings as current_communication_settings,
)
from domain.services.payment_settings import current_settings
from domain.services.status_events import publish_status
from domain.services.tenancy import require_location
from domain.writeback_state import check_transition


@dataclass(frozen=True)
class Submitted:
    intent: WritebackIntent
    # True when the same payment id had been submitted before with the same content.
    replayed: bool


async def replay_of(
    uow: UnitOfWork,
    location_id: str,
    kind: WritebackKind,
    source_id: str,
    fingerprint: str,
    id_name: str,
) -> Submitted | None:
    """The earlier submission of this id, if any; other content under it is a conflict."""
    existing = await uow.intents.by_source_id(location_id, kind, source_id)
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"this {id_name} was already submitted for the location with different content"
        )
    return Submitted(existing, replayed=True)


async def _replay(uow: UnitOfWork, location_id: str, valid: ValidPayment) -> Submitted | None:
    return await replay_of(
        uow,
        location_id,
        WritebackKind.PAYMENT,
        valid.submission.payment_id,
        valid.fingerprint,
        "paymentId",
    )


async def submit_payment(
    uow: UnitOfWork,
    principal: Principal,
    registry: ConnectorRegistry,
    submission: PaymentSubmission,
) -> Submitted:
    principal.require_staff()
    location = await require_location(uow, principal, submission.location_id)
    location_id, organization_id = location.id, location.organization_id
    connection = await uow.connections.get(location_id)
    capabilities = registry.capabilities(PmsSystem(connection.system)) if connection else None
    valid = validate_payment(
        submission,
        numeric_patient_ids=bool(capabilities and capabilities.numeric_patient_ids),
        today=utcnow().date(),
    )
    replay = await _replay(uow, location_id, valid)
    if replay is not None:
        return replay

    versioned = await current_settings(uow, location_id)
    decision = decide_payment(
        versioned.settings,
        versioned.version,
        submission.source,
        submission.method,
        valid.gross_cents,
        valid.fee_cents,
    )
    needs_posting = decision.status in (WritebackStatus.QUEUED, WritebackStatus.SCHEDULED)
    if needs_posting and connection is None:
        raise ConnectionNotConfigured(
            "the location has no PMS connection, so the payment could not be written back; "
            "an admin must set the connection first"
        )
    if needs_posting and submission.source is PaymentSource.INSURANCE and not submission.claim_ref:
        raise ValidationFailed(
            [
                FieldError(
                    "claimRef",
                    "an insurance payment is written on the claim it pays: give the claim's "
                    "number, or set insurance payments to manual",
                )
            ]
        )
    if submission.payment_plan_ref and not (capabilities and capabilities.payment_plans):
        raise ValidationFailed(
            [FieldError("paymentPlanRef", "this PMS cannot attach payments to plans")]
        )
    if needs_posting and decision.amount_cents <= 0:
        raise ValidationFailed([FieldError("fee", "leaves no amount to post on a net basis")])

    intent_id = new_id()
    marker = marker_for(intent_id)
    now = utcnow()
    intent = WritebackIntent(
        id=intent_id,
        organization_id=organization_id,
        location_id=location_id,
        kind=WritebackKind.PAYMENT.value,
        source_id=submission.payment_id,
        fingerprint=valid.fingerprint,
        status=decision.status.value,
        patient_ref=submission.patient_ref,
        occurred_on=submission.paid_on,
        payload={
            "source": submission.source.value,
            "method": submission.method.value,
            "gross_cents": valid.gross_cents,
            "fee_cents": valid.fee_cents,
            "amount_cents": decision.amount_cents,
            "pay_type": decision.pay_type,
            "check_number": submission.check_number,
            "card_brand": submission.card_brand,
            "card_last4": submission.card_last4,
            "payment_plan_ref": submission.payment_plan_ref,
            "claim_ref": submission.claim_ref,
            "fee_adjustment_type": decision.fee_adjustment_type,
            "fee_adjustment_sign": decision.fee_adjustment_sign,
            "note": payment_note(
                marker,
                submission.source,
                submission.method,
                valid.gross_cents,
                valid.fee_cents,
                submission.payment_id,
                submission.card_brand,
                submission.card_last4,
            ),
        },
        settings_version=decision.settings_version,
        settings_snapshot=decision.snapshot(),
        marker=marker,
        attempt_count=0,
        budget_start_attempt=0,
        next_attempt_at=now if decision.status is WritebackStatus.QUEUED else None,
        created_at=now,
        updated_at=now,
        completed_at=now if decision.status is WritebackStatus.SKIPPED else None,
    )
    return await insert_intent(uow, intent, lambda: _replay(uow, location_id, valid))


async def insert_intent(
    uow: UnitOfWork,
    intent: WritebackIntent,
    replay: Callable[[], Awaitable[Submitted | None]],
) -> Submitted:
    """Stores a new intent and queues it (after commit) if it is due now.

    A concurrent request with the same idempotency key may win the insert; this unit of
    work then holds nothing else, so it is rolled back and answered as a replay.
    """
    uow.intents.add(intent)
    try:
        await uow.flush()
    except IntegrityError:
        await uow.session.rollback()
        replayed = await replay()
        if replayed is None:
            raise
        return replayed
    if intent.status == WritebackStatus.QUEUED.value:
        uow.enqueue_posting_after_commit(intent.kind, intent.id)
    publish_status(uow, intent)
    return Submitted(intent, replayed=False)


async def _staff_writeback(
    uow: UnitOfWork, principal: Principal, intent_id: str
) -> WritebackIntent:
    """A writeback staff act on, locked; another organization's is never revealed."""
    principal.require_staff()
    intent = await uow.intents.get_scoped(principal.organization_id, intent_id)
    if intent is None or not principal.may_see_location(intent.location_id):
        raise NotFound("no such writeback")
    locked = await uow.intents.get(intent_id, for_update=True)
    assert locked is not None
    return locked


async def _queue_now(uow: UnitOfWork, intent: WritebackIntent) -> WritebackIntent:
    check_transition(WritebackStatus(intent.status), WritebackStatus.QUEUED)
    now = utcnow()
    intent.status = WritebackStatus.QUEUED.value
    intent.next_attempt_at = now
    intent.updated_at = now
    await uow.flush()
    uow.enqueue_posting_after_commit(intent.kind, intent.id)
    publish_status(uow, intent)
    return intent


async def retry_writeback(uow: UnitOfWork, principal: Principal, intent_id: str) -> WritebackIntent:
    """Staff push a failed item again. Reconciliation by marker still runs before any re-post."""
    intent = await _staff_writeback(uow, principal, intent_id)
    current = WritebackStatus(intent.status)
    if current not in (WritebackStatus.FAILED, WritebackStatus.PARTIAL):
        raise InvalidTransition(
            f"only failed or partial writebacks can be retried; this one is {current.value}"
        )
    intent.budget_start_attempt = intent.attempt_count
    intent.completed_at = None
    intent.failure_reason = None
    intent.failure_hint = None
    if intent.kind in (WritebackKind.COMMUNICATION, WritebackKind.DOCUMENT):
        # The usual fix for a failed entry is choosing another writeback provider: the
        # retry is attributed to the one chosen now.
        provider = (await current_communication_settings(uow, intent.location_id)).settings
        if provider.provider and provider.provider != intent.payload.get("provider"):
            intent.payload = {**intent.payload, "provider": provider.provider}
    return await _queue_now(uow, intent)


@dataclass(frozen=True)
class HistoryPage:
    items: Sequence[WritebackIntent]
    attempts: dict[str, list[WritebackAttempt]]
    has_next: bool


async def history(
    uow: UnitOfWork,
    principal: Principal,
    f: HistoryFilter,
    after: tuple[datetime, str] | None,
    first: int,
) -> HistoryPage:
    if f.location_ids is not None:
        for location_id in f.location_ids:
            await require_location(uow, principal, location_id)
    elif principal.location_ids is not None:
        f = HistoryFilter(**{**f.__dict__, "location_ids": sorted(principal.location_ids)})
    rows = await uow.intents.history(f, after, first + 1)
    items = rows[:first]
    attempts: dict[str, list[WritebackAttempt]] = {i.id: [] for i in items}
    for attempt in await uow.attempts.for_intents([i.id for i in items]):
        attempts[attempt.intent_id].append(attempt)
    return HistoryPage(items=items, attempts=attempts, has_next=len(rows) > first)


async def get_writeback(
    uow: UnitOfWork, principal: Principal, intent_id: str
) -> tuple[WritebackIntent, list[WritebackAttempt]]:
    intent = await uow.intents.get_scoped(principal.organization_id, intent_id)
    if intent is None or not principal.may_see_location(intent.location_id):
        raise NotFound("no such writeback")
    return intent, list(await uow.attempts.for_intents([intent.id]))


async def _awaiting_manual(
    uow: UnitOfWork, principal: Principal, intent_id: str
) -> WritebackIntent:
    intent = await _staff_writeback(uow, principal, intent_id)
    if intent.status != WritebackStatus.AWAITING_MANUAL.value:
        raise InvalidTransition(
            "only writebacks awaiting manual posting can be marked or pushed; "
            f"this one is {intent.status}"
        )
    return intent


async def mark_posted_manually(
    uow: UnitOfWork, principal: Principal, intent_id: str, pms_reference: str
) -> WritebackIntent:
    """Staff posted it in the PMS themselves: recorded as succeeded, never sent by us."""
    reference = pms_reference.strip()
    if not reference or len(reference) > 64 or not reference.isprintable():
        raise ValidationFailed(
            [FieldError("pmsReference", "must be the PMS's record number (1-64 characters)")]
        )
    intent = await _awaiting_manual(uow, principal, intent_id)
    now = utcnow()
    check_transition(WritebackStatus.AWAITING_MANUAL, WritebackStatus.SUCCEEDED)
    intent.status = WritebackStatus.SUCCEEDED.value
    intent.pms_record_id = reference
    intent.posted_manually_by = principal.key_id
    intent.completed_at = now
    intent.updated_at = now
    await uow.flush()
    publish_status(uow, intent)
    return intent


async def push_through(uow: UnitOfWork, principal: Principal, intent_id: str) -> WritebackIntent:
    """Staff hand a manual item to the automatic writeback; it can then no longer be marked."""
    return await _queue_now(uow, await _awaiting_manual(uow, principal, intent_id))


@dataclass(frozen=True)
class RefundSubmission:
    refund_id: str
    location_id: str
    # The platform's id of the payment being refunded (its paymentId when submitted).
    payment_id: str


async def submit_refund(
    uow: UnitOfWork, principal: Principal, registry: ConnectorRegistry, submission: RefundSubmission
) -> Submitted:
    """Refunds the whole of a payment already written to the PMS, once.

    Open Dental refunds a payment as a whole (a new negative payment), so the refund's
    amount is always what was posted and a payment is refunded at most once.
    """
    principal.require_staff()
    location = await require_location(uow, principal, submission.location_id)
    location_id, organization_id = location.id, location.organization_id
    if not PLATFORM_ID.match(submission.refund_id):
        raise ValidationFailed([FieldError("refundId", "must be 1-128 letters, digits or . _ : -")])
    # Names the refunded payment, not the refund: any refund of that payment has it.
    fingerprint = hashlib.sha256(f"refund|{submission.payment_id}".encode()).hexdigest()

    async def replay() -> Submitted | None:
        existing = await uow.intents.by_source_id(
            location_id, WritebackKind.REFUND, submission.refund_id
        )
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise IdempotencyConflict("this refundId was already used for another payment")
            return Submitted(existing, replayed=True)
        if await uow.intents.by_fingerprint(location_id, WritebackKind.REFUND, fingerprint):
            raise IdempotencyConflict(
                "this payment has already been refunded; nothing is left to refund"
            )
        return None

    earlier = await replay()
    if earlier is not None:
        return earlier
    original = await uow.intents.by_source_id(
        location_id, WritebackKind.PAYMENT, submission.payment_id
    )
    if original is None:
        raise NotFound("no such payment at this location")
    connection = await uow.connections.get(location_id)
    capabilities = registry.capabilities(PmsSystem(connection.system)) if connection else None
    if not (capabilities and capabilities.refunds):
        raise ValidationFailed(
            [FieldError("paymentId", "this PMS cannot take refunds through its API")]
        )
    posted = original.payload.get("posted_parts", {})
    if original.status != WritebackStatus.SUCCEEDED.value or "payment" not in posted:
        raise InvalidTransition(
            "only a payment written to the PMS as a patient payment can be refunded there; "
            f"this one is {original.status}"
        )
    if original.payload.get("payment_plan_ref"):
        raise ValidationFailed(
            [
                FieldError(
                    "paymentId", "Open Dental cannot refund a payment attached to a payment plan"
                )
            ]
        )
    intent_id = new_id()
    marker = marker_for(intent_id)
    now = utcnow()
    intent = WritebackIntent(
        id=intent_id,
        organization_id=organization_id,
        location_id=location_id,
        kind=WritebackKind.REFUND.value,
        source_id=submission.refund_id,
        fingerprint=fingerprint,
        status=WritebackStatus.QUEUED.value,
        patient_ref=original.patient_ref,
        occurred_on=now.date(),
        payload={
            "original_intent_id": original.id,
            "original_record_id": posted["payment"],
            "amount_cents": -int(original.payload["amount_cents"]),
            "note": refund_note(marker, submission.refund_id, original.marker),
        },
        settings_version=original.settings_version,
        settings_snapshot=original.settings_snapshot,
        marker=marker,
        attempt_count=0,
        budget_start_attempt=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    return await insert_intent(uow, intent, replay)
