"""The PMS's own lists a settings screen chooses from, fresh from the PMS with a short cache."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from domain.errors import PmsUnavailable
from domain.persistence.base import utcnow
from domain.persistence.uow import UnitOfWork
from domain.ports import ConnectorError, ConnectorRegistry, PmsConnector, PmsOption, SecretBox
from domain.principal import Principal
from domain.services.connections import connector_for_location
from domain.services.tenancy import require_location

# Long enough that a settings screen opening its drop-downs costs the practice's throttled
# PMS one round of reads; short enough that a type added in the PMS shows up within a minute.
CACHE_SECONDS = 60.0
LISTS = ("payment_types", "note_types", "document_categories", "adjustment_types", "providers")


@dataclass(frozen=True)
class PmsOptions:
    payment_types: list[PmsOption]
    note_types: list[PmsOption]
    document_categories: list[PmsOption]
    adjustment_types: list[PmsOption]
    providers: list[PmsOption]
    fetched_at: datetime

    def to_dict(self) -> dict[str, Any]:
        lists = {name: [asdict(o) for o in getattr(self, name)] for name in LISTS}
        return {**lists, "fetched_at": self.fetched_at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PmsOptions:
        lists = {name: [PmsOption(**o) for o in data[name]] for name in LISTS}
        return cls(**lists, fetched_at=datetime.fromisoformat(data["fetched_at"]))


@dataclass(frozen=True)
class OptionsSource:
    connector: PmsConnector
    cache_key: str


async def source(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: ConnectorRegistry,
    location_id: str,
) -> OptionsSource:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    connector = await connector_for_location(uow, secret_box, registry, location_id)
    connection = await uow.connections.get(location_id)
    assert connection is not None
    # A changed connection (other PMS, other keys) must not be answered from the old one.
    return OptionsSource(
        connector, f"pms-options:{location_id}:{connection.updated_at.isoformat()}"
    )


async def fetch(connector: PmsConnector) -> PmsOptions:
    """Outside any unit of work: reads the PMS one list after another (its throttle)."""
    try:
        return PmsOptions(
            payment_types=await connector.list_payment_types(),
            note_types=await connector.list_note_types(),
            document_categories=await connector.list_document_categories(),
            adjustment_types=await connector.list_adjustment_types(),
            providers=await connector.list_providers(),
            fetched_at=utcnow(),
        )
    except ConnectorError as exc:
        raise PmsUnavailable(
            f"could not read the PMS's lists: {exc.message}",
            getattr(exc, "hint", "Run checkConnection to see which part of the connection fails"),
        ) from exc
