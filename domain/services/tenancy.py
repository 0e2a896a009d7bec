"""Organizations, locations and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.enums import Role
from domain.errors import FieldError, NotFound, ValidationFailed
from domain.persistence.base import utcnow
from domain.persistence.models import ApiKey, Location, Organization
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal

KEY_SCHEME = "wbk"


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    # Shown once; only its hash is stored.
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _issue(
    organization_id: str, name: str, role: Role, location_ids: list[str], created_by: str | None
) -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        organization_id=organization_id,
        name=name,
        role=role.value,
        prefix=prefix,
        secret_hash=_hash(secret),
        location_ids=location_ids,
        created_by=created_by,
    )
    return IssuedKey(key=key, secret=f"{KEY_SCHEME}_{prefix}_{secret}")


def _check_name(name: str, field: str = "name") -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 200:
        raise ValidationFailed([FieldError(field, "must be 1-200 characters")])
    return cleaned


def _check_time_zone(time_zone: str) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(
            [
                FieldError(
                    "timeZone", f"{time_zone!r} is not an IANA time zone such as America/Chicago"
                )
            ]
        ) from None


async def create_organization(uow: UnitOfWork, name: str) -> tuple[Organization, IssuedKey]:
    """Operator action (console): a new organization and its first admin key."""
    organization = Organization(name=_check_name(name))
    uow.organizations.add(organization)
    await uow.flush()
    issued = _issue(organization.id, "first admin key", Role.ADMIN, [], None)
    uow.api_keys.add(issued.key)
    await uow.flush()
    return organization, issued


async def create_location(
    uow: UnitOfWork, principal: Principal, name: str, time_zone: str
) -> Location:
    principal.require_admin()
    _check_time_zone(time_zone)
    location = Location(
        organization_id=principal.organization_id, name=_check_name(name), time_zone=time_zone
    )
    uow.locations.add(location)
    await uow.flush()
    return location


async def require_location(uow: UnitOfWork, principal: Principal, location_id: str) -> Location:
    location = await uow.locations.get(principal.organization_id, location_id)
    if location is None or not principal.may_see_location(location_id):
        raise NotFound("no such location")
    return location


async def create_api_key(
    uow: UnitOfWork, principal: Principal, name: str, role: Role, location_ids: list[str]
) -> IssuedKey:
    principal.require_admin()
    if location_ids and role is not Role.PARTNER:
        raise ValidationFailed(
            [FieldError("locationIds", "only partner keys are limited to locations")]
        )
    for location_id in location_ids:
        await require_location(uow, principal, location_id)
    issued = _issue(
        principal.organization_id,
        _check_name(name),
        role,
        sorted(set(location_ids)),
        principal.key_id,
    )
    uow.api_keys.add(issued.key)
    await uow.flush()
    return issued


async def revoke_api_key(uow: UnitOfWork, principal: Principal, key_id: str) -> ApiKey:
    principal.require_admin()
    key = await uow.api_keys.get(principal.organization_id, key_id)
    if key is None:
        raise NotFound("no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    await uow.flush()
    return key


async def authenticate(uow: UnitOfWork, presented: str) -> Principal | None:
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME:
        return None
    key = await uow.api_keys.by_prefix(parts[1])
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    role = Role(key.role)
    scoped = frozenset(key.location_ids) if role is Role.PARTNER and key.location_ids else None
    return Principal(
        key_id=key.id, organization_id=key.organization_id, role=role, location_ids=scoped
    )
