"""GraphQL types of the PMS sync: settings, status, mirrored patients and appointments, events."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

import strawberry

from api.context import Info
from api.types.writeback import PageInfo
from domain import sync_schedule, sync_settings
from domain.persistence.sync_models import SyncedAppointment, SyncedPatient, SyncedPatientPhoto
from domain.services import sync_queries
from domain.services.sync_settings import VersionedSyncSettings

SyncResource = strawberry.enum(sync_settings.SyncResource, name="SyncResource")
FlowStatus = strawberry.enum(sync_schedule.FlowStatus, name="FlowStatus")
SyncHealth = strawberry.enum(sync_queries.SyncHealth, name="SyncHealth")


@strawberry.type
class SyncResourceSetting:
    resource: sync_settings.SyncResource
    enabled: bool
    interval_seconds: int


@strawberry.type
class SyncSettings:
    location_id: strawberry.ID
    version: int
    resources: list[SyncResourceSetting]
    patient_photos: bool = strawberry.field(
        description="Fetch each patient's profile picture from the PMS's picture category"
    )

    @classmethod
    def from_model(cls, location_id: str, v: VersionedSyncSettings) -> SyncSettings:
        s = v.settings
        return cls(
            location_id=strawberry.ID(location_id),
            version=v.version,
            resources=[
                SyncResourceSetting(
                    resource=r,
                    enabled=s.rule_for(r).enabled,
                    interval_seconds=s.rule_for(r).interval_seconds,
                )
                for r in sync_settings.SyncResource
            ],
            patient_photos=s.patient_photos,
        )


@strawberry.input
class SyncResourceSettingInput:
    resource: sync_settings.SyncResource
    enabled: bool | None = None
    interval_seconds: int | None = None


@strawberry.input
class UpdateSyncSettingsInput:
    """Resources, switches and intervals left out keep their current values."""

    location_id: strawberry.ID
    resources: list[SyncResourceSettingInput] = strawberry.field(default_factory=list)
    patient_photos: bool | None = None

    def changes(self) -> dict[sync_settings.SyncResource, tuple[bool | None, int | None]]:
        return {r.resource: (r.enabled, r.interval_seconds) for r in self.resources}


@strawberry.type
class SyncResourceStatus:
    resource: sync_settings.SyncResource
    enabled: bool
    interval_seconds: int
    health: sync_queries.SyncHealth
    online: bool = strawberry.field(description="False while the PMS does not answer the polls")
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    lag_seconds: float | None = strawberry.field(
        description="Seconds since the last successful poll (how old the mirror may be)"
    )
    consecutive_failures: int
    last_changed_count: int = strawberry.field(description="Rows the last poll changed")

    @classmethod
    def from_model(cls, s: sync_queries.ResourceStatus) -> SyncResourceStatus:
        return cls(
            resource=s.resource,
            enabled=s.enabled,
            interval_seconds=s.interval_seconds,
            health=s.health,
            online=s.online,
            last_success_at=s.last_success_at,
            last_attempt_at=s.last_attempt_at,
            last_error=s.last_error,
            lag_seconds=round(s.lag_seconds, 3) if s.lag_seconds is not None else None,
            consecutive_failures=s.consecutive_failures,
            last_changed_count=s.last_changed_count,
        )


@strawberry.type
class PatientPhoto:
    document_id: str = strawberry.field(description="The PMS document (Open Dental DocNum)")
    content_type: str
    taken_at: datetime | None
    data_url: str = strawberry.field(description="data:<type>;base64,<picture>")

    @classmethod
    def from_model(cls, m: SyncedPatientPhoto) -> PatientPhoto:
        encoded = base64.b64encode(m.content).decode("ascii")
        return cls(
            document_id=m.document_id,
            content_type=m.content_type,
            taken_at=m.taken_at,
            data_url=f"data:{m.content_type};base64,{encoded}",
        )


@strawberry.type
class Patient:
    id: strawberry.ID
    location_id: strawberry.ID
    pms_id: str = strawberry.field(description="The PMS's patient id (Open Dental PatNum)")
    first_name: str
    last_name: str
    preferred_name: str
    birthdate: date | None
    status: str = strawberry.field(description="The PMS's patient status (Patient, Inactive...)")
    provider_id: str | None
    has_photo: bool = strawberry.field(
        description="A picture is stored (always false while photos are off)"
    )
    updated_at: datetime

    @strawberry.field(description="The profile picture, when photos are on and there is one")
    async def photo(self, info: Info) -> PatientPhoto | None:
        if not self.has_photo:
            return None
        principal = info.context.require_principal()
        async with info.context.container.uow() as uow:
            m = await sync_queries.patient_photo(uow, principal, self.location_id, self.pms_id)
        return PatientPhoto.from_model(m) if m is not None else None

    @classmethod
    def from_model(cls, m: SyncedPatient, has_photo: bool = False) -> Patient:
        return cls(
            id=strawberry.ID(m.id),
            location_id=strawberry.ID(m.location_id),
            pms_id=m.pms_id,
            first_name=m.first_name,
            last_name=m.last_name,
            preferred_name=m.preferred_name,
            birthdate=m.birthdate,
            status=m.status,
            provider_id=m.provider_id,
            has_photo=has_photo,
            updated_at=m.updated_at,
        )


@strawberry.type
class PatientEdge:
    cursor: str
    node: Patient


@strawberry.type
class PatientConnection:
    edges: list[PatientEdge]
    page_info: PageInfo


def encode_patient_cursor(m: SyncedPatient) -> str:
    return base64.urlsafe_b64encode(f"{m.sort_key}\x1e{m.id}".encode()).decode()


def decode_patient_cursor(cursor: str) -> tuple[str, str]:
    try:
        sort_key, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("\x1e", 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    return sort_key, row_id


@strawberry.type
class Appointment:
    id: strawberry.ID
    location_id: strawberry.ID
    pms_id: str = strawberry.field(description="The PMS's appointment id (Open Dental AptNum)")
    patient_pms_id: str
    patient: Patient | None = strawberry.field(description="From the mirror, once synced")
    status: str = strawberry.field(description="The PMS's status (Scheduled, Complete, Broken...)")
    flow_status: sync_schedule.FlowStatus
    starts_at: datetime
    local_date: date
    duration_minutes: int
    confirmation_id: str | None
    confirmation: str | None = strawberry.field(description="The PMS's confirmation status name")
    operatory_id: str | None
    provider_id: str | None
    provider_abbr: str | None
    arrived_at: datetime | None
    seated_at: datetime | None
    dismissed_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_model(cls, m: SyncedAppointment, patient: SyncedPatient | None) -> Appointment:
        return cls(
            id=strawberry.ID(m.id),
            location_id=strawberry.ID(m.location_id),
            pms_id=m.pms_id,
            patient_pms_id=m.pms_patient_id,
            patient=Patient.from_model(patient) if patient is not None else None,
            status=m.status,
            flow_status=sync_schedule.FlowStatus(m.flow_status),
            starts_at=m.starts_at,
            local_date=m.local_date,
            duration_minutes=m.duration_minutes,
            confirmation_id=m.confirmation_id,
            confirmation=m.confirmation_label,
            operatory_id=m.operatory_id,
            provider_id=m.provider_id,
            provider_abbr=m.provider_abbr,
            arrived_at=m.arrived_at,
            seated_at=m.seated_at,
            dismissed_at=m.dismissed_at,
            updated_at=m.updated_at,
        )


@strawberry.type
class TodaySchedule:
    location_id: strawberry.ID
    date: date = strawberry.field(description="Today in the location's time zone")
    appointments: list[Appointment]


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@strawberry.type
class AppointmentEvent:
    """An appointment of the location changed in the PMS (ids, times and statuses only)."""

    location_id: strawberry.ID
    change: str = strawberry.field(
        description='"created", "updated" or "removed" (deleted in the PMS or moved off the day)'
    )
    appointment_id: strawberry.ID
    pms_id: str
    patient_pms_id: str
    status: str
    flow_status: sync_schedule.FlowStatus
    previous_flow_status: sync_schedule.FlowStatus | None
    confirmation: str | None
    starts_at: datetime | None
    local_date: date
    arrived_at: datetime | None
    seated_at: datetime | None
    dismissed_at: datetime | None
    at: datetime

    @classmethod
    def from_payload(cls, e: dict[str, Any]) -> AppointmentEvent:
        a: dict[str, Any] = e["appointment"]
        previous = a.get("previous_flow_status")
        return cls(
            location_id=strawberry.ID(e["location_id"]),
            change=e["change"],
            appointment_id=strawberry.ID(a["id"]),
            pms_id=a["pms_id"],
            patient_pms_id=a["pms_patient_id"],
            status=a["status"],
            flow_status=sync_schedule.FlowStatus(a["flow_status"]),
            previous_flow_status=sync_schedule.FlowStatus(previous) if previous else None,
            confirmation=a.get("confirmation_label"),
            starts_at=_when(a.get("starts_at")),
            local_date=date.fromisoformat(a["local_date"]),
            arrived_at=_when(a.get("arrived_at")),
            seated_at=_when(a.get("seated_at")),
            dismissed_at=_when(a.get("dismissed_at")),
            at=datetime.fromisoformat(e["at"]),
        )


@strawberry.type
class SyncStatusEvent:
    """A resource's sync changed: settings, online/offline, a failure, or stored changes."""

    location_id: strawberry.ID
    resource: sync_settings.SyncResource
    reason: str = strawberry.field(description='"settings" or "poll"')
    enabled: bool | None
    interval_seconds: int | None
    online: bool | None
    consecutive_failures: int | None
    last_success_at: datetime | None
    last_error: str | None
    changed: int | None
    at: datetime

    @classmethod
    def from_payload(cls, e: dict[str, Any]) -> SyncStatusEvent:
        s: dict[str, Any] = e["status"]
        return cls(
            location_id=strawberry.ID(e["location_id"]),
            resource=sync_settings.SyncResource(s["resource"]),
            reason=s.get("reason", "poll"),
            enabled=s.get("enabled"),
            interval_seconds=s.get("interval_seconds"),
            online=s.get("online"),
            consecutive_failures=s.get("consecutive_failures"),
            last_success_at=_when(s.get("last_success_at")),
            last_error=s.get("last_error"),
            changed=s.get("changed"),
            at=datetime.fromisoformat(e["at"]),
        )
