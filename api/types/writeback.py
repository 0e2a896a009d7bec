from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from api.context import Info
from domain import enums
from domain.communication_settings import CommunicationType, DocumentType
from domain.communication_submission import CallOutcome, Channel, Direction
from domain.money import from_cents
from domain.persistence.models import DailyRun as DailyRunModel
from domain.persistence.models import Notification as NotificationModel
from domain.persistence.models import WritebackAttempt as AttemptModel
from domain.persistence.models import WritebackIntent
from domain.services import notifications
from domain.services.notifications import MAX_LISTED_WRITEBACKS


@strawberry.type
class WritebackAttempt:
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: enums.AttemptOutcome | None
    error: str | None
    pms_record_id: str | None

    @classmethod
    def from_model(cls, m: AttemptModel) -> WritebackAttempt:
        return cls(
            number=m.number,
            started_at=m.started_at,
            finished_at=m.finished_at,
            outcome=enums.AttemptOutcome(m.outcome) if m.outcome else None,
            error=m.error,
            pms_record_id=m.pms_record_id,
        )


@strawberry.type
class PaymentDetails:
    source: enums.PaymentSource
    method: enums.PaymentMethod
    gross_amount: Decimal
    fee: Decimal
    net_amount: Decimal
    posted_amount: Decimal = strawberry.field(
        description="What is written to the PMS (net or gross)"
    )
    pay_type: str | None
    check_number: str | None


@strawberry.type
class CommunicationDetails:
    type: CommunicationType
    channel: Channel
    direction: Direction
    note_type: str | None = strawberry.field(description="PMS note type it is written as")
    provider: str | None = strawberry.field(description="PMS provider it is attributed to")
    occurred_at: datetime
    text: str
    call_duration_seconds: int | None
    call_outcome: CallOutcome | None
    task_ref: str | None

    @classmethod
    def from_payload(cls, p: dict[str, Any]) -> CommunicationDetails:
        return cls(
            type=CommunicationType(p["type"]),
            channel=Channel(p["channel"]),
            direction=Direction(p["direction"]),
            note_type=p.get("note_type"),
            provider=p.get("provider"),
            occurred_at=datetime.fromisoformat(p["occurred_at"]),
            text=p["text"],
            call_duration_seconds=p.get("call_duration_seconds"),
            call_outcome=CallOutcome(p["call_outcome"]) if p.get("call_outcome") else None,
            task_ref=p.get("task_ref"),
        )


@strawberry.type
class DocumentDetails:
    type: DocumentType
    category: str | None = strawberry.field(description="PMS document category written into")
    content_type: str
    size: int = strawberry.field(description="Bytes")
    sha256: str
    description: str

    @classmethod
    def from_payload(cls, p: dict[str, Any]) -> DocumentDetails:
        return cls(
            type=DocumentType(p["type"]),
            category=p.get("category"),
            content_type=p["content_type"],
            size=p["size"],
            sha256=p["sha256"],
            description=p["description"],
        )


@strawberry.type
class RefundDetails:
    refunded_writeback_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Negative: what the refund takes back")


@strawberry.type
class Writeback:
    id: strawberry.ID
    kind: enums.WritebackKind
    location_id: strawberry.ID
    source_id: str = strawberry.field(description="The platform's own id (idempotency key)")
    status: enums.WritebackStatus
    patient_ref: str
    occurred_on: date
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    pms_record_id: str | None
    failure_reason: str | None
    failure_hint: str | None
    daily_run_id: strawberry.ID | None = strawberry.field(
        description="The daily run it went out in (daily timing)"
    )
    posted_manually_by: strawberry.ID | None = strawberry.field(
        description="API key of the staff member who recorded it as posted by hand"
    )
    marker: str = strawberry.field(
        description="Reference left in the PMS record, e.g. [WB:<marker>]"
    )
    settings_version: int
    settings_snapshot: JSON
    payment: PaymentDetails | None
    refund: RefundDetails | None
    communication: CommunicationDetails | None
    document: DocumentDetails | None
    posted_parts: JSON = strawberry.field(
        description="PMS record ids per part written (payment, fee_adjustment, ...)"
    )
    attempts: list[WritebackAttempt]

    @classmethod
    def from_model(cls, m: WritebackIntent, attempts: list[AttemptModel]) -> Writeback:
        p: dict[str, Any] = m.payload
        payment = None
        if m.kind == enums.WritebackKind.PAYMENT:
            payment = PaymentDetails(
                source=enums.PaymentSource(p["source"]),
                method=enums.PaymentMethod(p["method"]),
                gross_amount=from_cents(p["gross_cents"]),
                fee=from_cents(p["fee_cents"]),
                net_amount=from_cents(p["gross_cents"] - p["fee_cents"]),
                posted_amount=from_cents(p["amount_cents"]),
                pay_type=p.get("pay_type"),
                check_number=p.get("check_number"),
            )
        return cls(
            id=strawberry.ID(m.id),
            kind=enums.WritebackKind(m.kind),
            location_id=strawberry.ID(m.location_id),
            source_id=m.source_id,
            status=enums.WritebackStatus(m.status),
            patient_ref=m.patient_ref,
            occurred_on=m.occurred_on,
            created_at=m.created_at,
            updated_at=m.updated_at,
            completed_at=m.completed_at,
            pms_record_id=m.pms_record_id,
            failure_reason=m.failure_reason,
            failure_hint=m.failure_hint,
            daily_run_id=strawberry.ID(m.daily_run_id) if m.daily_run_id else None,
            posted_manually_by=strawberry.ID(m.posted_manually_by)
            if m.posted_manually_by
            else None,
            marker=m.marker,
            settings_version=m.settings_version,
            settings_snapshot=cast(JSON, m.settings_snapshot),
            payment=payment,
            refund=RefundDetails(
                refunded_writeback_id=strawberry.ID(p["original_intent_id"]),
                amount=from_cents(p["amount_cents"]),
            )
            if m.kind == enums.WritebackKind.REFUND
            else None,
            communication=CommunicationDetails.from_payload(p)
            if m.kind == enums.WritebackKind.COMMUNICATION
            else None,
            document=DocumentDetails.from_payload(p)
            if m.kind == enums.WritebackKind.DOCUMENT
            else None,
            posted_parts=cast(JSON, p.get("posted_parts", {})),
            attempts=[WritebackAttempt.from_model(a) for a in attempts],
        )


def encode_cursor(m: WritebackIntent) -> str:
    return base64.urlsafe_b64encode(f"{m.created_at.isoformat()}|{m.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, intent_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        created_at = datetime.fromisoformat(created)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("invalid cursor") from exc
    if created_at.tzinfo is None:
        raise ValueError("invalid cursor")
    return created_at, intent_id


@strawberry.type
class WritebackEdge:
    cursor: str
    node: Writeback


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class WritebackConnection:
    edges: list[WritebackEdge]
    page_info: PageInfo


@strawberry.input
class WritebackFilter:
    location_id: strawberry.ID | None = None
    kind: enums.WritebackKind | None = None
    statuses: list[enums.WritebackStatus] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None
    patient_ref: str | None = None
    source_id: str | None = None


@strawberry.type
class WritebackEvent:
    writeback_id: strawberry.ID
    location_id: strawberry.ID
    kind: enums.WritebackKind
    source_id: str
    status: enums.WritebackStatus
    reason: str | None
    hint: str | None
    pms_record_id: str | None
    at: datetime

    @classmethod
    def from_payload(cls, e: dict[str, Any]) -> WritebackEvent:
        return cls(
            writeback_id=strawberry.ID(e["intent_id"]),
            location_id=strawberry.ID(e["location_id"]),
            kind=enums.WritebackKind(e["kind"]),
            source_id=e["source_id"],
            status=enums.WritebackStatus(e["status"]),
            reason=e.get("reason"),
            hint=e.get("hint"),
            pms_record_id=e.get("pms_record_id"),
            at=datetime.fromisoformat(e["at"]),
        )


@strawberry.type
class DailyRun:
    id: strawberry.ID
    location_id: strawberry.ID
    run_key: str = strawberry.field(
        description="The local date, or now:<time> when triggered by staff"
    )
    cutoff_at: datetime
    status: str
    item_count: int
    triggered_by: strawberry.ID | None
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_model(cls, m: DailyRunModel) -> DailyRun:
        return cls(
            id=strawberry.ID(m.id),
            location_id=strawberry.ID(m.location_id),
            run_key=m.run_key,
            cutoff_at=m.cutoff_at,
            status=m.status,
            item_count=m.item_count,
            triggered_by=strawberry.ID(m.triggered_by) if m.triggered_by else None,
            created_at=m.created_at,
            completed_at=m.completed_at,
        )


@strawberry.type
class Notification:
    id: strawberry.ID
    location_id: strawberry.ID
    writeback_id: strawberry.ID | None = strawberry.field(
        description="The writeback that opened the notice"
    )
    category: str
    message: str
    hint: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    occurrences: int = strawberry.field(
        description="Failures of this cause grouped on the notice while it was open"
    )
    last_occurred_at: datetime
    resolved_at: datetime | None = strawberry.field(
        description="When every writeback on it had been posted since; null while open"
    )
    # Known already when built from a live event; read in batches otherwise.
    known_writeback_ids: strawberry.Private[list[str] | None] = None

    @strawberry.field(
        description=f"The writebacks it is about, in the order they failed (at most "
        f"{MAX_LISTED_WRITEBACKS}; occurrences has the count)"
    )
    async def writeback_ids(self, info: Info) -> list[strawberry.ID]:
        ids = self.known_writeback_ids
        if ids is None:
            ids = await notification_writeback_ids(info).load(str(self.id))
        return [strawberry.ID(i) for i in ids]

    @classmethod
    def from_model(cls, m: NotificationModel) -> Notification:
        return cls(
            id=strawberry.ID(m.id),
            location_id=strawberry.ID(m.location_id),
            writeback_id=strawberry.ID(m.intent_id) if m.intent_id else None,
            category=m.category,
            message=m.message,
            hint=m.hint,
            created_at=m.created_at,
            acknowledged_at=m.acknowledged_at,
            occurrences=m.occurrences,
            last_occurred_at=m.last_occurred_at,
            resolved_at=m.resolved_at,
        )

    @classmethod
    def from_payload(cls, d: dict[str, Any]) -> Notification:
        """From a notice as events carry it (domain.services.notifications.notice_data)."""

        def moment(key: str) -> datetime | None:
            value = d.get(key)
            return datetime.fromisoformat(value) if value else None

        created_at, last_occurred_at = moment("created_at"), moment("last_occurred_at")
        assert created_at is not None and last_occurred_at is not None
        return cls(
            id=strawberry.ID(d["id"]),
            location_id=strawberry.ID(d["location_id"]),
            writeback_id=strawberry.ID(d["writeback_id"]) if d.get("writeback_id") else None,
            category=d["category"],
            message=d["message"],
            hint=d.get("hint"),
            created_at=created_at,
            acknowledged_at=moment("acknowledged_at"),
            occurrences=int(d["occurrences"]),
            last_occurred_at=last_occurred_at,
            resolved_at=moment("resolved_at"),
            known_writeback_ids=[str(i) for i in d.get("writeback_ids") or []],
        )


def notification_writeback_ids(info: Info) -> DataLoader[str, list[str]]:
    """Batches the writeback ids of every notification in one response into one query.
    Not cached: a websocket's context outlives one operation."""
    loader = info.context.loaders.get("notification_writeback_ids")
    if loader is None:
        container = info.context.container

        async def load(keys: list[str]) -> list[list[str]]:
            async with container.uow() as uow:
                found = await notifications.writeback_ids_of(uow, keys)
            return [list(found.get(k, ())) for k in keys]

        loader = DataLoader(load_fn=load, cache=False)
        info.context.loaders["notification_writeback_ids"] = loader
    return cast(DataLoader[str, list[str]], loader)
