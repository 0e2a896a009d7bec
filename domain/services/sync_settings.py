"""Reading and changing a location's sync settings (versioned and audited like the others).

Validated against the connection's throttle. After the commit a job re-plans the location's
polls, so a new interval or switch takes effect at the next tick; each poll also reads the
settings it runs under, so a resource switched off is not polled again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.errors import ValidationFailed
from domain.events import sync_status_channel, sync_status_event
from domain.job_names import PLAN_LOCATION_SYNC, sync_plan_job_id
from domain.persistence.models import SettingsChange
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services.settings_store import record_new_version
from domain.services.tenancy import require_location
from domain.sync_settings import SETTINGS_KIND, SyncResource, SyncSettings, validate


@dataclass(frozen=True)
class VersionedSyncSettings:
    settings: SyncSettings
    version: int


async def current(uow: UnitOfWork, location_id: str) -> VersionedSyncSettings:
    """Unscoped: for the worker and for services that checked the caller already."""
    row = await uow.settings.get(location_id, SETTINGS_KIND)
    if row is None or not row.version:
        return VersionedSyncSettings(SyncSettings(), 0)
    return VersionedSyncSettings(SyncSettings.from_dict(row.data), row.version)


async def get_settings(
    uow: UnitOfWork, principal: Principal, location_id: str
) -> VersionedSyncSettings:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    return await current(uow, location_id)


async def list_changes(
    uow: UnitOfWork, principal: Principal, location_id: str
) -> Sequence[SettingsChange]:
    principal.require_admin()
    await require_location(uow, principal, location_id)
    return await uow.settings.list_changes(location_id, SETTINGS_KIND)


async def update_settings(
    uow: UnitOfWork,
    principal: Principal,
    location_id: str,
    resources: Mapping[SyncResource, tuple[bool | None, int | None]],
    patient_photos: bool | None,
) -> VersionedSyncSettings:
    """Switches and intervals not given keep their current values."""
    principal.require_admin()
    location = await require_location(uow, principal, location_id)
    row = await uow.settings.lock(location_id, SETTINGS_KIND)
    existing = SyncSettings.from_dict(row.data) if row.version else SyncSettings()
    new = existing.with_changes(resources, patient_photos)
    connection = await uow.connections.get(location_id)
    errors = validate(new, connection.write_interval_seconds if connection else None)
    if errors:
        raise ValidationFailed(errors)
    if row.version and new == existing:
        return VersionedSyncSettings(existing, row.version)
    version = record_new_version(uow, row, location.organization_id, principal, new.to_dict())
    await uow.flush()
    uow.enqueue_after_commit(
        PLAN_LOCATION_SYNC, location_id, job_id=sync_plan_job_id(location_id, version)
    )
    for resource in SyncResource:
        rule = new.rule_for(resource)
        if rule != existing.rule_for(resource) or not row.version:
            uow.publish_after_commit(
                sync_status_channel(location_id),
                sync_status_event(
                    organization_id=location.organization_id,
                    location_id=location_id,
                    status={
                        "resource": resource.value,
                        "enabled": rule.enabled,
                        "interval_seconds": rule.interval_seconds,
                        "reason": "settings",
                    },
                ),
            )
    return VersionedSyncSettings(new, version)
