"""Versioned, audited settings rows shared by every kind of location settings."""

from __future__ import annotations

from typing import Any

from domain.persistence.base import utcnow
from domain.persistence.models import LocationSettings, SettingsChange
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal


def record_new_version(
    uow: UnitOfWork,
    row: LocationSettings,
    organization_id: str,
    principal: Principal,
    after: dict[str, Any],
) -> int:
    """Writes `after` as the row's next version and audits who changed what, before/after.

    The row must be locked (`uow.settings.lock`) by the caller's unit of work.
    """
    before = row.data if row.version else None
    version = row.version + 1
    row.version = version
    row.data = after
    row.updated_at = utcnow()
    row.updated_by = principal.key_id
    uow.settings.add_change(
        SettingsChange(
            organization_id=organization_id,
            location_id=row.location_id,
            kind=row.kind,
            version=version,
            actor_key_id=principal.key_id,
            before=before,
            after=after,
        )
    )
    return version
