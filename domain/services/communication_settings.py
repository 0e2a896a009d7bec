"""Reading and changing a location's communication writeback settings (versioned, audited).

The writeback provider, note types and document categories are checked against the PMS's
own lists, read before anything is locked.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.communication_settings import (
    SETTINGS_KIND,
    CommunicationWritebackSettings,
    PmsLists,
    PmsProvider,
    validate,
)
from domain.errors import PmsUnavailable, ValidationFailed
from domain.persistence.uow import UnitOfWork
from domain.ports import ConnectorError, ConnectorRegistry, SecretBox
from domain.principal import Principal
from domain.services.connections import credentials_of
from domain.services.settings_store import record_new_version
from domain.services.tenancy import require_location


@dataclass(frozen=True)
class VersionedCommunicationSettings:
    settings: CommunicationWritebackSettings
    version: int


async def get_settings(
    uow: UnitOfWork, principal: Principal, location_id: str
) -> VersionedCommunicationSettings:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    return await current_settings(uow, location_id)


async def current_settings(uow: UnitOfWork, location_id: str) -> VersionedCommunicationSettings:
    row = await uow.settings.get(location_id, SETTINGS_KIND)
    if row is None:
        return VersionedCommunicationSettings(CommunicationWritebackSettings(), 0)
    return VersionedCommunicationSettings(
        CommunicationWritebackSettings.from_dict(row.data), row.version
    )


async def replace_settings(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: ConnectorRegistry,
    location_id: str,
    new: CommunicationWritebackSettings,
) -> VersionedCommunicationSettings:
    """The whole settings object is given (a settings screen saves all of it)."""
    principal.require_admin()
    location = await require_location(uow, principal, location_id)
    organization_id = location.organization_id
    connection = await uow.connections.get(location_id)
    pms = PmsLists(None, None, None)
    if connection is not None:
        connector = registry.connector_for(credentials_of(connection, secret_box))
        # Asked before anything is locked: a slow PMS must not hold a lock or a connection.
        await uow.session.rollback()
        try:
            pms = PmsLists(
                providers=[PmsProvider(p.id, p.hidden) for p in await connector.list_providers()],
                note_types={t.id for t in await connector.list_note_types() if not t.hidden},
                document_categories={
                    c.id for c in await connector.list_document_categories() if not c.hidden
                },
            )
        except ConnectorError as exc:
            raise PmsUnavailable(
                f"could not read the PMS's lists to check the settings: {exc.message}",
                "Run checkConnection and try again when the PMS answers",
            ) from exc
    errors = validate(new, pms)
    if errors:
        raise ValidationFailed(errors)
    row = await uow.settings.lock(location_id, SETTINGS_KIND)
    current = CommunicationWritebackSettings.from_dict(row.data)
    if row.version and current == new:
        return VersionedCommunicationSettings(current, row.version)
    version = record_new_version(uow, row, organization_id, principal, new.to_dict())
    await uow.flush()
    return VersionedCommunicationSettings(new, version)
