"""Reading and changing a location's payment writeback settings (versioned, audited)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import PmsSystem, PostingTiming
from domain.errors import PmsUnavailable, ValidationFailed
from domain.payment_settings import (
    SETTINGS_KIND,
    PaymentSettingsChanges,
    PaymentWritebackSettings,
    validate_settings,
)
from domain.persistence.base import utcnow
from domain.persistence.models import SettingsChange
from domain.persistence.uow import UnitOfWork
from domain.ports import ConnectorError, ConnectorRegistry, PmsConnector, SecretBox
from domain.principal import Principal
from domain.services import daily
from domain.services.connections import credentials_of
from domain.services.settings_store import record_new_version
from domain.services.tenancy import require_location

KIND = SETTINGS_KIND


@dataclass(frozen=True)
class VersionedSettings:
    settings: PaymentWritebackSettings
    version: int


async def current_settings(uow: UnitOfWork, location_id: str) -> VersionedSettings:
    row = await uow.settings.get(location_id, KIND)
    if row is None:
        return VersionedSettings(PaymentWritebackSettings(), 0)
    return VersionedSettings(PaymentWritebackSettings.from_dict(row.data), row.version)


async def get_settings(
    uow: UnitOfWork, principal: Principal, location_id: str
) -> VersionedSettings:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    return await current_settings(uow, location_id)


async def _pms_pay_types(connector: PmsConnector) -> set[str]:
    try:
        return {t.id for t in await connector.list_payment_types() if not t.hidden}
    except ConnectorError as exc:
        raise PmsUnavailable(
            f"could not read the PMS payment types to check the mapping: {exc.message}",
            "Run checkConnection and try again when the PMS answers",
        ) from exc


async def _pms_adjustment_signs(connector: PmsConnector) -> dict[str, str]:
    try:
        return {
            t.id: str(t.extra.get("sign", "-"))
            for t in await connector.list_adjustment_types()
            if not t.hidden
        }
    except ConnectorError as exc:
        raise PmsUnavailable(
            f"could not read the PMS adjustment types to check the fee setting: {exc.message}",
            "Run checkConnection and try again when the PMS answers",
        ) from exc


async def update_settings(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: ConnectorRegistry,
    location_id: str,
    changes: PaymentSettingsChanges,
) -> VersionedSettings:
    principal.require_admin()
    location = await require_location(uow, principal, location_id)
    organization_id = location.organization_id
    connection = await uow.connections.get(location_id)
    connection_interval_seconds = connection.write_interval_seconds if connection else 1.0
    capabilities = registry.capabilities(PmsSystem(connection.system)) if connection else None
    connector = (
        registry.connector_for(credentials_of(connection, secret_box)) if connection else None
    )
    # The PMS is asked before anything is locked: a slow practice must not hold a lock or a
    # database connection. Nothing has been written yet, so ending the read costs nothing.
    checked_pay_types: set[str] | None = None
    adjustment_signs: dict[str, str] | None = None
    if connector is not None and (changes.pay_types or changes.fee_adjustment_type):
        await uow.session.rollback()
        if changes.pay_types:
            checked_pay_types = await _pms_pay_types(connector)
        if changes.fee_adjustment_type:
            adjustment_signs = await _pms_adjustment_signs(connector)

    row = await uow.settings.lock(location_id, KIND)
    current = VersionedSettings(PaymentWritebackSettings.from_dict(row.data), row.version)
    new = changes.apply_to(current.settings)
    if (
        changes.fee_adjustment_type
        and adjustment_signs
        and changes.fee_adjustment_type in adjustment_signs
    ):
        new = new.with_changes(fee_adjustment_sign=adjustment_signs[changes.fee_adjustment_type])
    if not changes.fee_adjustment_type and new.fee_adjustment_type:
        # Kept from an earlier version, where it was checked.
        adjustment_signs = {new.fee_adjustment_type: new.fee_adjustment_sign}
    if changes.pay_types is None:
        # Mappings kept from earlier versions were checked when they were set.
        checked_pay_types = {m.pay_type for m in new.pay_types}
    errors = validate_settings(new, capabilities, checked_pay_types, adjustment_signs)
    if errors:
        raise ValidationFailed(errors)
    if new == current.settings:
        return current

    version = record_new_version(uow, row, organization_id, principal, new.to_dict())
    if current.settings.timing is PostingTiming.DAILY and new.timing is PostingTiming.INSTANT:
        connection_interval = connection_interval_seconds
        waiting = await uow.intents.scheduled_up_to(location_id, utcnow())
        await daily.queue_items(uow, waiting, connection_interval, daily_run_id=None)
    await uow.flush()
    return VersionedSettings(new, version)


async def settings_changes(
    uow: UnitOfWork, principal: Principal, location_id: str
) -> list[SettingsChange]:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    return list(await uow.settings.list_changes(location_id, KIND))
