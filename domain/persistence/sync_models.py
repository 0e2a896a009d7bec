"""Tables of the PMS sync: local mirrors of patients and appointments, and per-resource state.

Registered on the same declarative Base as models.py (migrations/env.py imports both).
Rows are keyed by (location, PMS id); the fingerprint of a row's synced content tells a
real change from a re-read of the same row (overlap windows re-read on purpose).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.persistence.base import Base, UTCDateTime, new_id, utcnow


class SyncedPatient(Base):
    __tablename__ = "synced_patients"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    pms_id: Mapped[str] = mapped_column(String(64))
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str] = mapped_column(String(200))
    birthdate: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    clinic_id: Mapped[str | None] = mapped_column(String(64))
    # Lower-cased "last first preferred pms_id" for search, and the keyset order of pages.
    search_text: Mapped[str] = mapped_column(String(700))
    sort_key: Mapped[str] = mapped_column(String(420))
    pms_changed_at: Mapped[str | None] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Photos: when the PMS's patient picture was last looked for (None: never, or photos
    # were switched off since), so each poll fetches a bounded number of missing ones.
    photo_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("location_id", "pms_id"),
        Index("ix_synced_patients_page", "location_id", "sort_key", "id"),
        Index("ix_synced_patients_photo", "location_id", "photo_checked_at"),
    )


class SyncedPatientPhoto(Base):
    """The PMS's current patient picture, served to authorized callers only."""

    __tablename__ = "synced_patient_photos"
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    pms_patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    document_id: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncedAppointment(Base):
    __tablename__ = "synced_appointments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    pms_id: Mapped[str] = mapped_column(String(64))
    pms_patient_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    flow_status: Mapped[str] = mapped_column(String(16))
    # The office's wall clock in the location's time zone, as UTC instants, plus the local
    # date for "today's schedule".
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    confirmation_id: Mapped[str | None] = mapped_column(String(64))
    confirmation_label: Mapped[str | None] = mapped_column(String(255))
    operatory_id: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    provider_abbr: Mapped[str | None] = mapped_column(String(64))
    clinic_id: Mapped[str | None] = mapped_column(String(64))
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pms_changed_at: Mapped[str | None] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("location_id", "pms_id"),
        Index("ix_synced_appointments_schedule", "location_id", "local_date", "starts_at"),
    )


class SyncState(Base):
    """One (location, resource): its cursor and how its polling goes."""

    __tablename__ = "sync_states"
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    # The PMS's own clock (serverDateTime of the last stored batch), "yyyy-MM-dd HH:mm:ss".
    cursor: Mapped[str | None] = mapped_column(String(32))
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_changed_count: Mapped[int] = mapped_column(Integer, default=0)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["SyncState", "SyncedAppointment", "SyncedPatient", "SyncedPatientPhoto"]
