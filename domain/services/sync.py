"""Polling the PMS into the local mirror, and the sync's state per (location, resource).

A poll reads what it needs in one unit of work, asks the PMS with no transaction open (a
slow PMS holds no connection or lock), then stores the batch, advances the cursor and
records success in a second unit of work: the cursor only moves once the rows it covers
are committed. Events leave after that commit, one per real change: re-reading rows (the
overlap window does on purpose) changes nothing and publishes nothing.

Safe to run twice: a poll is an idempotent upsert from the stored cursor.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from domain.events import (
    appointment_channel,
    appointment_event,
    sync_status_channel,
    sync_status_event,
)
from domain.persistence.base import utcnow
from domain.persistence.sync_models import (
    SyncedAppointment,
    SyncedPatient,
    SyncedPatientPhoto,
    SyncState,
)
from domain.persistence.uow import UnitOfWork
from domain.ports import (
    ConnectorError,
    ConnectorRegistry,
    PatientPhoto,
    PmsAppointment,
    PmsConnector,
    PmsPatient,
    SecretBox,
    SyncSchedule,
    Throttled,
)
from domain.services.connections import credentials_of
from domain.services.sync_settings import current
from domain.sync_schedule import (
    FlowFacts,
    backoff_seconds,
    flow_status,
    phase_ms,
    schedule_member,
)
from domain.sync_settings import SETTINGS_KIND, SyncResource, SyncSettings

log = logging.getLogger(__name__)

STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class SyncDeps:
    secret_box: SecretBox
    registry: ConnectorRegistry
    schedule: SyncSchedule
    # Re-read this much before the cursor: the PMS's stamps have 1-second resolution and
    # "changed after" may exclude the cursor's own second.
    overlap_seconds: float = 2.0
    # Patient pictures fetched at most per patient poll (each costs PMS requests).
    photos_per_poll: int = 5
    # A picture replaced in the PMS does not change the patient's row: each patient's is
    # looked at again after this long (from the same per-poll allowance).
    photo_recheck_hours: float = 24.0
    # The first appointments poll (no cursor yet) reads this window around today.
    first_sync_past_days: int = 7
    first_sync_future_days: int = 120
    # Every this many appointment-status polls read all of today's appointments instead of
    # the changed ones: Open Dental's DateTStamp does not report deletions, and a deleted
    # appointment must leave the patient-flow board (one page either way for a day).
    full_day_read_every: int = 4


class PollResult(StrEnum):
    STORED = "stored"
    SKIPPED = "skipped"  # switched off, no connection, or no such location
    THROTTLED = "throttled"  # the connection's throttle had no slot; the next tick tries
    FAILED = "failed"  # the PMS is unreachable or refused: backing off


@dataclass(frozen=True)
class PollOutcome:
    result: PollResult
    changed: int = 0
    rows: int = 0


@dataclass(frozen=True)
class _PollPlan:
    organization_id: str
    zone: ZoneInfo
    settings: SyncSettings
    connector: PmsConnector
    cursor: datetime | None
    consecutive_failures: int
    polls: int


def member_of(location_id: str, resource: SyncResource) -> str:
    return schedule_member(location_id, resource)


async def plan_location(uow: UnitOfWork, schedule: SyncSchedule, location_id: str) -> None:
    """Puts the location's enabled resources on the schedule and takes the others off."""
    settings = (await current(uow, location_id)).settings
    connection = await uow.connections.get(location_id)
    for resource in SyncResource:
        rule = settings.rule_for(resource)
        member = member_of(location_id, resource)
        if rule.enabled and connection is not None:
            interval_ms = rule.interval_seconds * 1000
            await schedule.plan(
                member, rule.interval_seconds, phase_ms(location_id, resource, interval_ms)
            )
        else:
            await schedule.remove(member)


async def plan_all(uow: UnitOfWork, schedule: SyncSchedule) -> int:
    """Re-plans every location from the database (what Redis lost, it gets back).

    Two queries and one read of the schedule, whatever the number of locations; only
    members missing from the schedule or planned with another interval are written.
    """
    rows = await uow.settings.all_of_kind(SETTINGS_KIND)
    connected = await uow.connections.connected([row.location_id for row in rows])
    wanted: dict[str, tuple[str, SyncResource, int]] = {}
    for row in rows:
        if row.location_id not in connected or not row.version:
            continue
        settings = SyncSettings.from_dict(row.data)
        for resource in settings.enabled():
            member = member_of(row.location_id, resource)
            interval = settings.rule_for(resource).interval_seconds
            wanted[member] = (row.location_id, resource, interval)
    planned = await schedule.planned()
    for member, (location_id, resource, interval) in wanted.items():
        if planned.get(member) != interval:
            await schedule.plan(member, interval, phase_ms(location_id, resource, interval * 1000))
    for member in planned:
        if member not in wanted:
            await schedule.remove(member)
    return len(wanted)


async def poll(
    uow_factory: UowFactory,
    deps: SyncDeps,
    location_id: str,
    resource: SyncResource,
    now: datetime | None = None,
) -> PollOutcome:
    plan = await _plan(uow_factory, deps, location_id, resource)
    if plan is None:
        return PollOutcome(PollResult.SKIPPED)
    now = now or utcnow()
    since = plan.cursor - timedelta(seconds=deps.overlap_seconds) if plan.cursor else None
    whole_day = (
        resource is SyncResource.APPOINTMENT_STATUS and plan.polls % deps.full_day_read_every == 0
    )
    if whole_day:
        since = None
    try:
        if resource is SyncResource.PATIENTS:
            patients = await plan.connector.patients_changed_since(since)
            server_time, count = patients.server_time, len(patients.rows)
        else:
            first_day, last_day = _window(deps, resource, plan, now)
            appointments = await plan.connector.appointments_changed_since(
                since, first_day, last_day
            )
            server_time, count = appointments.server_time, len(appointments.rows)
    except Throttled:
        return PollOutcome(PollResult.THROTTLED)
    except ConnectorError as exc:
        await _record_failure(uow_factory, deps, plan, location_id, resource, exc.message)
        return PollOutcome(PollResult.FAILED)

    async with uow_factory() as uow:
        if resource is not SyncResource.PATIENTS:
            # Both appointment polls write the same mirror rows: one at a time.
            await uow.sync.states.lock(
                plan.organization_id, location_id, SyncResource.APPOINTMENTS.value
            )
        state = await uow.sync.states.lock(plan.organization_id, location_id, resource.value)
        if resource is SyncResource.PATIENTS:
            changed = await _store_patients(uow, plan, location_id, patients.rows, now)
            if not plan.settings.patient_photos:
                await uow.sync.patients.forget_photos(location_id)
        else:
            changed = await _store_appointments(uow, plan, location_id, appointments.rows, now)
            if whole_day and first_day is not None:
                changed += await _remove_missing(
                    uow, plan, location_id, first_day, {a.id for a in appointments.rows}
                )
        _advance(state, server_time)
        _record_success(uow, plan, state, location_id, resource, changed, now)
        await uow.commit()
    if resource is SyncResource.PATIENTS and plan.settings.patient_photos:
        await _fetch_photos(uow_factory, deps, plan, location_id)
    return PollOutcome(PollResult.STORED, changed=changed, rows=count)


async def _plan(
    uow_factory: UowFactory, deps: SyncDeps, location_id: str, resource: SyncResource
) -> _PollPlan | None:
    async with uow_factory() as uow:
        location = await uow.locations.get_unscoped(location_id)
        if location is None:
            return None
        settings = (await current(uow, location_id)).settings
        if not settings.rule_for(resource).enabled:
            return None
        connection = await uow.connections.get(location_id)
        if connection is None:
            return None
        state = await uow.sync.states.get(location_id, resource.value)
        connector = deps.registry.connector_for(credentials_of(connection, deps.secret_box))
        return _PollPlan(
            organization_id=location.organization_id,
            zone=ZoneInfo(location.time_zone),
            settings=settings,
            connector=connector,
            cursor=_parse_stamp(state.cursor) if state and state.cursor else None,
            consecutive_failures=state.consecutive_failures if state else 0,
            polls=(state.polls or 0) if state else 0,
        )


def _window(
    deps: SyncDeps, resource: SyncResource, plan: _PollPlan, now: datetime
) -> tuple[date | None, date | None]:
    today = now.astimezone(plan.zone).date()
    if resource is SyncResource.APPOINTMENT_STATUS:
        return today, today
    if plan.cursor is None:
        return (
            today - timedelta(days=deps.first_sync_past_days),
            today + timedelta(days=deps.first_sync_future_days),
        )
    return None, None


def _advance(state: SyncState, server_time: datetime | None) -> None:
    # Never backwards: a PMS clock set back must not re-read (or skip) a range twice.
    if server_time is None:
        return
    current_cursor = _parse_stamp(state.cursor) if state.cursor else None
    if current_cursor is None or server_time > current_cursor:
        state.cursor = server_time.strftime(STAMP_FORMAT)


def _parse_stamp(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, STAMP_FORMAT)
    except ValueError:
        return None


def _fingerprint(values: dict[str, Any]) -> str:
    encoded = json.dumps(values, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The office's wall-clock time as a UTC instant (first of a repeated hour)."""
    if value is None:
        return None
    return value.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _appointment_values(a: PmsAppointment, zone: ZoneInfo) -> dict[str, Any]:
    facts = FlowFacts(
        appointment_status=a.status,
        confirmation_label=a.confirmation_label,
        arrived_at=a.arrived_at,
        seated_at=a.seated_at,
        dismissed_at=a.dismissed_at,
    )
    return {
        "pms_patient_id": a.patient_id,
        "status": a.status,
        "flow_status": flow_status(facts).value,
        "starts_at": _local(a.starts_at, zone),
        "local_date": a.starts_at.date(),
        "duration_minutes": a.duration_minutes,
        "confirmation_id": a.confirmation_id,
        "confirmation_label": a.confirmation_label,
        "operatory_id": a.operatory_id,
        "provider_id": a.provider_id,
        "provider_abbr": a.provider_abbr,
        "clinic_id": a.clinic_id,
        "arrived_at": _local(a.arrived_at, zone),
        "seated_at": _local(a.seated_at, zone),
        "dismissed_at": _local(a.dismissed_at, zone),
    }


def appointment_payload(row: SyncedAppointment, previous_flow: str | None) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "pms_id": row.pms_id,
        "pms_patient_id": row.pms_patient_id,
        "status": row.status,
        "flow_status": row.flow_status,
        "previous_flow_status": previous_flow,
        "confirmation_label": row.confirmation_label,
        "starts_at": iso(row.starts_at),
        "local_date": row.local_date.isoformat(),
        "duration_minutes": row.duration_minutes,
        "operatory_id": row.operatory_id,
        "provider_id": row.provider_id,
        "arrived_at": iso(row.arrived_at),
        "seated_at": iso(row.seated_at),
        "dismissed_at": iso(row.dismissed_at),
    }


async def _store_appointments(
    uow: UnitOfWork,
    plan: _PollPlan,
    location_id: str,
    rows: Sequence[PmsAppointment],
    now: datetime,
) -> int:
    latest = {a.id: a for a in rows}  # a row read twice (paging overlap): the last wins
    existing = await uow.sync.appointments.by_pms_ids(location_id, list(latest))
    changed = 0
    for pms_id, appointment in latest.items():
        values = _appointment_values(appointment, plan.zone)
        fingerprint = _fingerprint(values)
        row = existing.get(pms_id)
        if row is not None and row.fingerprint == fingerprint:
            continue
        previous_flow = row.flow_status if row is not None else None
        if row is None:
            row = SyncedAppointment(
                organization_id=plan.organization_id,
                location_id=location_id,
                pms_id=pms_id,
                created_at=now,
                **values,
            )
            uow.sync.appointments.add(row)
            change = "created"
        else:
            for key, value in values.items():
                setattr(row, key, value)
            change = "updated"
        row.fingerprint = fingerprint
        row.pms_changed_at = appointment.changed_at
        row.updated_at = now
        changed += 1
        await uow.flush()
        uow.publish_after_commit(
            appointment_channel(location_id),
            appointment_event(
                organization_id=plan.organization_id,
                location_id=location_id,
                change=change,
                appointment=appointment_payload(row, previous_flow),
            ),
        )
    return changed


async def _remove_missing(
    uow: UnitOfWork, plan: _PollPlan, location_id: str, day: date, returned: set[str]
) -> int:
    """Mirror rows of `day` the PMS no longer lists for it: deleted there, or moved off the
    day before the appointments poll saw it (that poll then stores it again, on its new day,
    since its own cursor has not passed the change)."""
    removed = 0
    for row in await uow.sync.appointments.between(location_id, day, day, limit=10_000):
        if row.pms_id in returned:
            continue
        await uow.sync.appointments.delete(row)
        removed += 1
        uow.publish_after_commit(
            appointment_channel(location_id),
            appointment_event(
                organization_id=plan.organization_id,
                location_id=location_id,
                change="removed",
                appointment=appointment_payload(row, row.flow_status),
            ),
        )
    await uow.flush()
    return removed


def _patient_values(p: PmsPatient) -> dict[str, Any]:
    last, first, preferred = p.last_name.strip(), p.first_name.strip(), p.preferred_name.strip()
    return {
        "last_name": last[:200],
        "first_name": first[:200],
        "preferred_name": preferred[:200],
        "birthdate": p.birthdate,
        "status": p.status[:32],
        "provider_id": p.provider_id,
        "clinic_id": p.clinic_id,
        "search_text": " ".join([last, first, preferred, p.id]).lower()[:700],
        "sort_key": f"{last.lower()[:200]}\x1f{first.lower()[:200]}",
    }


async def _store_patients(
    uow: UnitOfWork,
    plan: _PollPlan,
    location_id: str,
    rows: Sequence[PmsPatient],
    now: datetime,
) -> int:
    latest = {p.id: p for p in rows}
    existing = await uow.sync.patients.by_pms_ids(location_id, list(latest))
    changed = 0
    for pms_id, patient in latest.items():
        values = _patient_values(patient)
        fingerprint = _fingerprint(values)
        row = existing.get(pms_id)
        if row is not None and row.fingerprint == fingerprint:
            continue
        if row is None:
            row = SyncedPatient(
                organization_id=plan.organization_id,
                location_id=location_id,
                pms_id=pms_id,
                created_at=now,
                **values,
            )
            uow.sync.patients.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        # A changed patient may have a new picture: look again.
        row.photo_checked_at = None
        row.fingerprint = fingerprint
        row.pms_changed_at = patient.changed_at
        row.updated_at = now
        changed += 1
    await uow.flush()
    return changed


async def _fetch_photos(
    uow_factory: UowFactory, deps: SyncDeps, plan: _PollPlan, location_id: str
) -> None:
    async with uow_factory() as uow:
        pending = [
            p.pms_id
            for p in await uow.sync.patients.needing_photo(
                location_id,
                utcnow() - timedelta(hours=deps.photo_recheck_hours),
                deps.photos_per_poll,
            )
        ]
    fetched: dict[str, PatientPhoto | None] = {}
    for pms_id in pending:
        try:
            fetched[pms_id] = await plan.connector.patient_photo(pms_id)
        except ConnectorError as exc:
            # Photos are best effort: the rest wait for the next poll.
            log.info("patient photo not fetched: %s", exc.message)
            break
    if not fetched:
        return
    async with uow_factory() as uow:
        settings = (await current(uow, location_id)).settings
        if not settings.patient_photos:
            return  # switched off meanwhile: keep nothing
        for pms_id, photo in fetched.items():
            await uow.sync.patients.delete_photo(location_id, pms_id)
            if photo is not None:
                uow.sync.patients.add_photo(
                    SyncedPatientPhoto(
                        location_id=location_id,
                        pms_patient_id=pms_id,
                        organization_id=plan.organization_id,
                        document_id=photo.document_id,
                        content_type=photo.content_type,
                        content=photo.content,
                        taken_at=_local(photo.taken_at, plan.zone),
                    )
                )
        await uow.flush()
        await uow.sync.patients.mark_photo_checked(location_id, list(fetched))
        await uow.commit()


def status_payload(state: SyncState, resource: SyncResource) -> dict[str, Any]:
    return {
        "resource": resource.value,
        "online": state.online,
        "consecutive_failures": state.consecutive_failures,
        "last_success_at": state.last_success_at.isoformat() if state.last_success_at else None,
        "last_attempt_at": state.last_attempt_at.isoformat() if state.last_attempt_at else None,
        "last_error": state.last_error,
        "changed": state.last_changed_count,
    }


def _record_success(
    uow: UnitOfWork,
    plan: _PollPlan,
    state: SyncState,
    location_id: str,
    resource: SyncResource,
    changed: int,
    now: datetime,
) -> None:
    came_back = not state.online or state.last_success_at is None
    state.online = True
    state.consecutive_failures = 0
    state.last_error = None
    state.last_attempt_at = now
    state.last_success_at = now
    state.last_changed_count = changed
    state.polls += 1
    state.updated_at = now
    if came_back or changed:
        uow.publish_after_commit(
            sync_status_channel(location_id),
            sync_status_event(
                organization_id=plan.organization_id,
                location_id=location_id,
                status=status_payload(state, resource),
            ),
        )


async def _record_failure(
    uow_factory: UowFactory,
    deps: SyncDeps,
    plan: _PollPlan,
    location_id: str,
    resource: SyncResource,
    message: str,
) -> None:
    now = utcnow()
    async with uow_factory() as uow:
        state = await uow.sync.states.lock(plan.organization_id, location_id, resource.value)
        state.online = False
        state.consecutive_failures += 1
        state.last_error = message
        state.last_attempt_at = now
        state.polls += 1
        state.updated_at = now
        failures = state.consecutive_failures
        uow.publish_after_commit(
            sync_status_channel(location_id),
            sync_status_event(
                organization_id=plan.organization_id,
                location_id=location_id,
                status=status_payload(state, resource),
            ),
        )
        await uow.commit()
    interval = plan.settings.rule_for(resource).interval_seconds
    # Only this (location, resource) waits longer; every other member keeps its grid.
    await deps.schedule.defer(member_of(location_id, resource), backoff_seconds(failures, interval))
