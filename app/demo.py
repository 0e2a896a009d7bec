"""The demo practice of the local stack: an organization, a location wired to the simulator."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from app.bootstrap import Container
from domain.communication_settings import (
    UNTYPED,
    CommunicationType,
    CommunicationWritebackSettings,
    DocumentRule,
    DocumentType,
    TypeRule,
)
from domain.enums import PaymentMethod, PmsSystem, Role
from domain.payment_settings import PaymentSettingsChanges, PayTypeMapping
from domain.ports import PmsConnector
from domain.services import communication_settings, connections, payment_settings, tenancy


@dataclass(frozen=True)
class DemoPractice:
    organization_id: str
    location_id: str
    admin_key: str
    staff_key: str


async def ensure_demo_practice(
    container: Container,
    state_file: Path,
    simulator_base_url: str,
    developer_key: str,
    customer_key: str,
) -> DemoPractice:
    """Creates the demo practice once and reuses it on later starts (keys are kept in .local/)."""
    if state_file.exists():
        demo = DemoPractice(**json.loads(state_file.read_text()))
        async with container.uow() as uow:
            if await tenancy.authenticate(uow, demo.admin_key) is not None:
                await _connect(container, demo, simulator_base_url, developer_key, customer_key)
                return demo

    async with container.uow() as uow:
        organization, admin = await tenancy.create_organization(uow, "Demo Dental Group")
        await uow.commit()
    async with container.uow() as uow:
        principal = await tenancy.authenticate(uow, admin.secret)
        assert principal is not None
        location = await tenancy.create_location(
            uow, principal, "Demo Dental - Main St", "America/Chicago"
        )
        staff = await tenancy.create_api_key(uow, principal, "front desk", Role.STAFF, [])
        await uow.commit()
    demo = DemoPractice(organization.id, location.id, admin.secret, staff.secret)
    await _connect(container, demo, simulator_base_url, developer_key, customer_key)
    async with container.uow() as uow:
        principal = await tenancy.authenticate(uow, admin.secret)
        assert principal is not None
        connector = await connections.connector_for_location(
            uow, container.secret_box, container.registry, location.id
        )
        card = next(t.id for t in await connector.list_payment_types() if t.name == "Credit Card")
        await payment_settings.update_settings(
            uow,
            principal,
            container.secret_box,
            container.registry,
            location.id,
            PaymentSettingsChanges(pay_types=(PayTypeMapping(card, method=PaymentMethod.CARD),)),
        )
        await uow.commit()
    async with container.uow() as uow:
        principal = await tenancy.authenticate(uow, admin.secret)
        assert principal is not None
        await communication_settings.replace_settings(
            uow,
            principal,
            container.secret_box,
            container.registry,
            location.id,
            await _demo_communication_settings(connector),
        )
        await uow.commit()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(asdict(demo)))
    state_file.chmod(0o600)
    return demo


async def _demo_communication_settings(connector: PmsConnector) -> CommunicationWritebackSettings:
    """Every type allowed, as the PMS's own lists name them, attributed to its first provider."""
    provider = next(p.id for p in await connector.list_providers() if not p.hidden)
    note_types = {t.extra["usage"]: t.id for t in await connector.list_note_types()}
    categories = {c.name: c.id for c in await connector.list_document_categories()}
    texts, misc = note_types["TEXT"], note_types["MISC"]
    return CommunicationWritebackSettings(
        provider=provider,
        types={
            kind: TypeRule(
                True,
                None
                if kind in UNTYPED
                else texts
                if kind in (CommunicationType.OUTGOING_SMS, CommunicationType.INCOMING_SMS)
                else misc,
            )
            for kind in CommunicationType
        },
        documents={
            DocumentType.INSURANCE_VERIFICATION: DocumentRule(
                categories["Documents"], categories["Documents"]
            ),
            DocumentType.ACCOUNT_STATEMENT: DocumentRule(
                categories["Statements"], categories["Statements"]
            ),
        },
    )


async def _connect(
    container: Container, demo: DemoPractice, base_url: str, developer_key: str, customer_key: str
) -> None:
    """(Re)points the demo location at this run's simulator, whose port may have changed."""
    async with container.uow() as uow:
        principal = await tenancy.authenticate(uow, demo.admin_key)
        assert principal is not None
        await connections.set_connection(
            uow,
            principal,
            container.secret_box,
            container.registry,
            location_id=demo.location_id,
            system=PmsSystem.OPEN_DENTAL,
            base_url=base_url,
            developer_key=developer_key,
            customer_key=customer_key,
            write_interval_seconds=1.0,
        )
        await uow.commit()
