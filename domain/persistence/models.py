"""Tables. Every row that belongs to a practice carries its organization for scoping."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.persistence.base import Base, JsonType, UTCDateTime, new_id, utcnow


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Public part of the key, used to find the row; the secret is only stored hashed.
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    # Partner keys may be limited to some locations; empty means all of the organization.
    location_ids: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PmsConnection(Base):
    __tablename__ = "pms_connections"
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    system: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str] = mapped_column(String(500))
    developer_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    customer_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    write_interval_seconds: Mapped[float] = mapped_column(Float, default=1.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(36))


class LocationSettings(Base):
    """Current settings of one kind (e.g. payment writeback) for a location, versioned."""

    __tablename__ = "location_settings"
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(36))


class SettingsChange(Base):
    """Audit of settings changes: who, when, before, after."""

    __tablename__ = "settings_changes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    actor_key_id: Mapped[str | None] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any]] = mapped_column(JsonType)

    __table_args__ = (
        # One audit row per version: two concurrent changes can never both become version N.
        UniqueConstraint("location_id", "kind", "version"),
    )


class WritebackIntent(Base):
    __tablename__ = "writeback_intents"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    # The platform's own id: the idempotency key, unique per location and kind.
    source_id: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    patient_ref: Mapped[str] = mapped_column(String(64))
    occurred_on: Mapped[date] = mapped_column(Date)
    # Kind-specific content (for payments: source, method, cents, pay type...).
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    settings_version: Mapped[int] = mapped_column(Integer)
    settings_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonType)
    marker: Mapped[str] = mapped_column(String(32))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # Retry budget counts attempts after this number; staff retries move it forward.
    budget_start_attempt: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker's claim on a posting; another may take over only after it has expired.
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pms_record_id: Mapped[str | None] = mapped_column(String(64))
    # The daily run that sent it out, for daily timing.
    daily_run_id: Mapped[str | None] = mapped_column(ForeignKey("daily_runs.id"))
    # Staff who recorded it as posted by hand (their API key); pms_record_id holds their reference.
    posted_manually_by: Mapped[str | None] = mapped_column(String(36))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    failure_hint: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("location_id", "kind", "source_id"),
        Index("ix_writeback_intents_history", "organization_id", "created_at", "id"),
        Index("ix_writeback_intents_location_history", "location_id", "created_at", "id"),
        Index("ix_writeback_intents_due", "status", "next_attempt_at"),
        # A refund's fingerprint names the payment it refunds: a payment is refunded once,
        # even when two refunds of it arrive at the same instant.
        Index(
            "uq_writeback_intents_one_refund",
            "location_id",
            "fingerprint",
            unique=True,
            postgresql_where=text("kind = 'refund'"),
            sqlite_where=text("kind = 'refund'"),
        ),
    )


class WritebackDocument(Base):
    """The file of a document writeback, apart from the intent so history never loads it."""

    __tablename__ = "writeback_documents"
    intent_id: Mapped[str] = mapped_column(ForeignKey("writeback_intents.id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class DailyRun(Base):
    """One daily writeback of a location: its scheduled items up to the cut-off go out."""

    __tablename__ = "daily_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    # The local date for the configured daily time; "now:<timestamp>" when staff trigger one.
    run_key: Mapped[str] = mapped_column(String(64))
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    triggered_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # One run per location and local day, however many schedulers fire.
        UniqueConstraint("location_id", "run_key"),
        Index("ix_daily_runs_status", "status"),
    )


class WritebackAttempt(Base):
    """Written before the PMS is called, completed after: never infer from silence."""

    __tablename__ = "writeback_attempts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    intent_id: Mapped[str] = mapped_column(ForeignKey("writeback_intents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None while in flight; an attempt left None by a dead worker counts as outcome unknown.
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    pms_record_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("intent_id", "number"),)


class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    intent_id: Mapped[str | None] = mapped_column(ForeignKey("writeback_intents.id"))
    category: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(36))
    # Failures of one cause at one location share a notice: (location, category, cause) hashed.
    group_key: Mapped[str | None] = mapped_column(String(64))
    # group_key while the notice is open, None once resolved: at most one open notice per cause.
    open_group_key: Mapped[str | None] = mapped_column(String(64))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    last_occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a webhook about it was last queued, to rate-limit re-sends of an open notice.
    last_webhook_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_notifications_location", "location_id", "created_at"),
        UniqueConstraint("location_id", "open_group_key"),
    )


class NotificationWriteback(Base):
    """The writebacks a notice is about; recovered once the writeback has been posted."""

    __tablename__ = "notification_writebacks"
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    intent_id: Mapped[str] = mapped_column(
        ForeignKey("writeback_intents.id"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(Base):
    """Where a location's notices are POSTed, signed with a secret only the practice was shown."""

    __tablename__ = "webhook_endpoints"
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(36))


class WebhookDelivery(Base):
    """One event for one webhook: its payload as sent, and the log of trying to send it."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    # The JSON body, ids and staff-facing text only (no PHI).
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Pending: when it may be sent next; also the lease of an attempt in flight.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_location", "location_id", "created_at"),
    )


__all__ = [
    "ApiKey",
    "Base",
    "DailyRun",
    "LocationSettings",
    "Location",
    "Notification",
    "NotificationWriteback",
    "Organization",
    "PmsConnection",
    "SettingsChange",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WritebackAttempt",
    "WritebackIntent",
]
