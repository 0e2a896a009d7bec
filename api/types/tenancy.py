from __future__ import annotations

from datetime import datetime

import strawberry

from domain import enums
from domain.persistence.models import ApiKey as ApiKeyModel
from domain.persistence.models import Location as LocationModel
from domain.persistence.models import PmsConnection as PmsConnectionModel
from domain.services.connections import ConnectionCheck as ConnectionCheckModel


@strawberry.type
class PmsConnection:
    """Where the location's PMS is reached. The keys are write-only and never returned."""

    system: enums.PmsSystem
    base_url: str
    write_interval_seconds: float
    updated_at: datetime

    @classmethod
    def from_model(cls, m: PmsConnectionModel) -> PmsConnection:
        return cls(
            system=enums.PmsSystem(m.system),
            base_url=m.base_url,
            write_interval_seconds=m.write_interval_seconds,
            updated_at=m.updated_at,
        )


@strawberry.type
class Location:
    id: strawberry.ID
    name: str
    time_zone: str
    created_at: datetime

    @classmethod
    def from_model(cls, m: LocationModel) -> Location:
        return cls(
            id=strawberry.ID(m.id), name=m.name, time_zone=m.time_zone, created_at=m.created_at
        )


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    role: enums.Role
    location_ids: list[strawberry.ID]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, m: ApiKeyModel) -> ApiKey:
        return cls(
            id=strawberry.ID(m.id),
            name=m.name,
            role=enums.Role(m.role),
            location_ids=[strawberry.ID(i) for i in m.location_ids],
            created_at=m.created_at,
            revoked_at=m.revoked_at,
        )


@strawberry.type
class Me:
    key_id: strawberry.ID
    organization_id: strawberry.ID
    role: enums.Role
    location_ids: list[strawberry.ID] | None


@strawberry.type
class ConnectionCheck:
    name: str
    ok: bool
    message: str
    hint: str | None

    @classmethod
    def from_model(cls, m: ConnectionCheckModel) -> ConnectionCheck:
        return cls(name=m.name, ok=m.ok, message=m.message, hint=m.hint)


@strawberry.type
class PmsOption:
    id: str
    name: str
