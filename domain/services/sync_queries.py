"""Reading the mirror: a location's patients, appointments, today's schedule, sync status.

Staff and admins of the location's organization only; partners read writeback history, not
patients. Photos are served only while the location's photo option is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.errors import FieldError, ValidationFailed
from domain.persistence.base import utcnow
from domain.persistence.sync_models import (
    SyncedAppointment,
    SyncedPatient,
    SyncedPatientPhoto,
    SyncState,
)
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services.sync_settings import current
from domain.services.tenancy import require_location
from domain.sync_settings import ResourceRule, SyncResource

MAX_PATIENT_PAGE = 100
MAX_APPOINTMENT_DAYS = 62
MAX_APPOINTMENTS = 2000
# A resource whose last success is older than this many intervals (plus a grace) is late.
LATE_AFTER_INTERVALS = 3
LATE_GRACE_SECONDS = 30


class SyncHealth(StrEnum):
    DISABLED = "disabled"
    PENDING = "pending"  # on, not polled successfully yet
    ONLINE = "online"
    LATE = "late"  # answering, but the last success is older than the schedule allows
    OFFLINE = "offline"  # the PMS did not answer (or refused) the last poll


@dataclass(frozen=True)
class PatientPage:
    patients: Sequence[SyncedPatient]
    has_next: bool
    with_photo: set[str]
    photos_on: bool


@dataclass(frozen=True)
class Schedule:
    appointments: Sequence[SyncedAppointment]
    patients: dict[str, SyncedPatient]
    local_date: date | None = None


@dataclass(frozen=True)
class ResourceStatus:
    resource: SyncResource
    enabled: bool
    interval_seconds: int
    health: SyncHealth
    online: bool
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    lag_seconds: float | None
    consecutive_failures: int
    last_changed_count: int


async def patients(
    uow: UnitOfWork,
    principal: Principal,
    location_id: str,
    search: str | None,
    first: int,
    after: tuple[str, str] | None,
) -> PatientPage:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    if not 1 <= first <= MAX_PATIENT_PAGE:
        raise ValidationFailed([FieldError("first", f"must be between 1 and {MAX_PATIENT_PAGE}")])
    term = (search or "").strip()[:100] or None
    rows = await uow.sync.patients.page(location_id, term, after, first + 1)
    page = rows[:first]
    photos_on = (await current(uow, location_id)).settings.patient_photos
    with_photo = (
        await uow.sync.patients.photo_ids(location_id, [p.pms_id for p in page])
        if photos_on
        else set()
    )
    return PatientPage(page, len(rows) > first, with_photo, photos_on)


async def patient_photo(
    uow: UnitOfWork, principal: Principal, location_id: str, pms_patient_id: str
) -> SyncedPatientPhoto | None:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    if not (await current(uow, location_id)).settings.patient_photos:
        return None
    return await uow.sync.patients.photo(location_id, pms_patient_id)


async def appointments(
    uow: UnitOfWork, principal: Principal, location_id: str, first_day: date, last_day: date
) -> Schedule:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    if last_day < first_day:
        raise ValidationFailed([FieldError("to", "must not be before from")])
    if (last_day - first_day).days >= MAX_APPOINTMENT_DAYS:
        raise ValidationFailed(
            [FieldError("to", f"a range covers at most {MAX_APPOINTMENT_DAYS} days")]
        )
    return await _schedule(uow, location_id, first_day, last_day)


async def today(
    uow: UnitOfWork, principal: Principal, location_id: str, now: datetime | None = None
) -> Schedule:
    principal.require_staff()
    location = await require_location(uow, principal, location_id)
    local_date = (now or utcnow()).astimezone(ZoneInfo(location.time_zone)).date()
    schedule = await _schedule(uow, location_id, local_date, local_date)
    return Schedule(schedule.appointments, schedule.patients, local_date)


async def _schedule(uow: UnitOfWork, location_id: str, first_day: date, last_day: date) -> Schedule:
    rows = await uow.sync.appointments.between(location_id, first_day, last_day, MAX_APPOINTMENTS)
    patients = await uow.sync.patients.by_pms_ids(
        location_id, sorted({a.pms_patient_id for a in rows})
    )
    return Schedule(rows, patients)


async def status(
    uow: UnitOfWork, principal: Principal, location_id: str, now: datetime | None = None
) -> list[ResourceStatus]:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    now = now or utcnow()
    settings = (await current(uow, location_id)).settings
    states = {s.resource: s for s in await uow.sync.states.for_location(location_id)}
    return [
        resource_status(resource, settings.rule_for(resource), states.get(resource.value), now)
        for resource in SyncResource
    ]


def resource_status(
    resource: SyncResource, rule: ResourceRule, state: SyncState | None, now: datetime
) -> ResourceStatus:
    enabled = rule.enabled
    interval = rule.interval_seconds
    last_success = state.last_success_at if state else None
    lag = (now - last_success).total_seconds() if last_success else None
    if not enabled:
        health = SyncHealth.DISABLED
    elif state is not None and not state.online:
        health = SyncHealth.OFFLINE
    elif last_success is None:
        health = SyncHealth.PENDING
    elif lag is not None and lag > interval * LATE_AFTER_INTERVALS + LATE_GRACE_SECONDS:
        health = SyncHealth.LATE
    else:
        health = SyncHealth.ONLINE
    return ResourceStatus(
        resource=resource,
        enabled=enabled,
        interval_seconds=interval,
        health=health,
        online=state.online if state else True,
        last_success_at=last_success,
        last_attempt_at=state.last_attempt_at if state else None,
        last_error=state.last_error if state else None,
        lag_seconds=lag,
        consecutive_failures=state.consecutive_failures if state else 0,
        last_changed_count=state.last_changed_count if state else 0,
    )
