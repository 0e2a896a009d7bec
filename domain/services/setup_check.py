"""`testPaymentWriteback`: checks a location end to end without writing to the PMS."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import PostingMode
from domain.payment_settings import PaymentWritebackSettings
from domain.persistence.uow import UnitOfWork
from domain.ports import ConnectorError, PmsConnector, SecretBox
from domain.ports import ConnectorRegistry as Registry
from domain.principal import Principal
from domain.services.connections import ConnectionCheck, connector_to_check, run_checks
from domain.services.payment_settings import current_settings


@dataclass(frozen=True)
class SetupUnderTest:
    connector: PmsConnector
    settings: PaymentWritebackSettings


async def load(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: Registry,
    location_id: str,
) -> SetupUnderTest:
    connector = await connector_to_check(uow, principal, secret_box, registry, location_id)
    return SetupUnderTest(connector, (await current_settings(uow, location_id)).settings)


async def run(setup: SetupUnderTest, patient_ref: str | None) -> list[ConnectionCheck]:
    """Dry run: only reads. Run it outside any unit of work: the PMS may be slow."""
    checks = await run_checks(setup.connector)
    if not all(c.ok for c in checks):
        return checks
    checks.append(await _pay_types(setup))
    checks.append(await _providers(setup.connector))
    checks.append(await _patient(setup.connector, patient_ref))
    checks.append(_sources(setup.settings))
    return checks


async def _pay_types(setup: SetupUnderTest) -> ConnectionCheck:
    try:
        active = {t.id: t.name for t in await setup.connector.list_payment_types() if not t.hidden}
    except ConnectorError as exc:
        return ConnectionCheck("mappedPaymentTypes", False, exc.message, "Run the test again")
    missing = [m.pay_type for m in setup.settings.pay_types if m.pay_type not in active]
    if missing:
        return ConnectionCheck(
            "mappedPaymentTypes",
            False,
            f"mapped payment types no longer active in the PMS: {', '.join(missing)}",
            "Choose active payment types in the payment writeback settings",
        )
    if not setup.settings.pay_types:
        return ConnectionCheck(
            "mappedPaymentTypes",
            True,
            "no mapping: payments take the PMS's default API payment type",
            "Map a payment type per source or method to control how payments appear",
        )
    names = sorted({active[m.pay_type] for m in setup.settings.pay_types})
    return ConnectionCheck("mappedPaymentTypes", True, f"mapped types active: {', '.join(names)}")


async def _providers(connector: PmsConnector) -> ConnectionCheck:
    try:
        providers = [p for p in await connector.list_providers() if not p.hidden]
    except ConnectorError as exc:
        return ConnectionCheck("providers", False, exc.message, "Check the key's read permission")
    if not providers:
        return ConnectionCheck(
            "providers", False, "no active providers", "Add a provider in the PMS"
        )
    return ConnectionCheck("providers", True, f"{len(providers)} active providers readable")


async def _patient(connector: PmsConnector, patient_ref: str | None) -> ConnectionCheck:
    if not patient_ref:
        return ConnectionCheck(
            "patientLookup", True, "skipped", "Give a patient's PMS number to check patient lookup"
        )
    try:
        found = await connector.patient_exists(patient_ref)
    except ConnectorError as exc:
        return ConnectionCheck("patientLookup", False, exc.message, "Run the test again")
    if not found:
        return ConnectionCheck(
            "patientLookup", False, "no patient with that number", "Check the patient's PMS number"
        )
    return ConnectionCheck("patientLookup", True, "the patient was found")


def _sources(settings: PaymentWritebackSettings) -> ConnectionCheck:
    automatic = [
        s.value
        for s, r in settings.sources.items()
        if r.enabled and r.mode is PostingMode.AUTOMATIC
    ]
    if not automatic:
        return ConnectionCheck(
            "sources",
            True,
            "no source is written back automatically",
            "Enable a payment source in automatic mode to write payments back",
        )
    return ConnectionCheck(
        "sources", True, f"written back automatically: {', '.join(sorted(automatic))}"
    )
