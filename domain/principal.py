"""Who is calling: an API key of one organization with a role."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import Role
from domain.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    key_id: str
    organization_id: str
    role: Role
    # Partner keys may be limited to these locations; None means every location.
    location_ids: frozenset[str] | None = None

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise Forbidden("this needs an admin key")

    def require_staff(self) -> None:
        if self.role not in (Role.ADMIN, Role.STAFF):
            raise Forbidden("this needs a staff or admin key")

    def may_see_location(self, location_id: str) -> bool:
        return self.location_ids is None or location_id in self.location_ids
