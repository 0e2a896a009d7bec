"""A location's PMS connection: stored encrypted, checked by a real round trip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlparse

from domain.enums import PmsSystem
from domain.errors import ConnectionNotConfigured, FieldError, ValidationFailed
from domain.persistence.base import utcnow
from domain.persistence.models import PmsConnection
from domain.persistence.uow import UnitOfWork
from domain.ports import (
    ConnectorError,
    ConnectorRegistry,
    CredentialsError,
    PermanentError,
    PmsConnector,
    PmsCredentials,
    SecretBox,
)
from domain.principal import Principal
from domain.services.tenancy import require_location


async def set_connection(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: ConnectorRegistry,
    *,
    location_id: str,
    system: PmsSystem,
    base_url: str,
    developer_key: str,
    customer_key: str,
    write_interval_seconds: float | None = None,
) -> PmsConnection:
    principal.require_admin()
    location = await require_location(uow, principal, location_id)
    errors: list[FieldError] = []
    if not registry.supports(system):
        errors.append(FieldError("system", f"{system.value} has no supported integration path yet"))
    parsed = urlparse(base_url)
    if len(base_url) > 500 or parsed.scheme not in ("http", "https") or not parsed.netloc:
        errors.append(
            FieldError(
                "baseUrl", "must be an http(s) URL such as https://api.opendental.com/api/v1"
            )
        )
    for field, value in (("developerKey", developer_key), ("customerKey", customer_key)):
        if not value.strip() or len(value) > 500 or not value.isprintable():
            errors.append(FieldError(field, "is required: the key as Open Dental shows it"))
    if write_interval_seconds is not None and not 0 <= write_interval_seconds <= 60:
        errors.append(FieldError("writeIntervalSeconds", "must be between 0 and 60"))
    if errors:
        raise ValidationFailed(errors)
    connection = await uow.connections.get(location.id)
    if connection is None:
        connection = PmsConnection(
            location_id=location.id, organization_id=location.organization_id
        )
        uow.connections.add(connection)
    connection.system = system.value
    connection.base_url = base_url.rstrip("/")
    connection.developer_key_encrypted = secret_box.encrypt(developer_key.strip())
    connection.customer_key_encrypted = secret_box.encrypt(customer_key.strip())
    connection.write_interval_seconds = (
        1.0 if write_interval_seconds is None else write_interval_seconds
    )
    connection.updated_at = utcnow()
    connection.updated_by = principal.key_id
    await uow.flush()
    return connection


def _throttle_key(base_url: str, customer_key: str) -> str:
    return "pms:" + hashlib.sha256(f"{base_url}|{customer_key}".encode()).hexdigest()[:24]


def credentials_of(connection: PmsConnection, secret_box: SecretBox) -> PmsCredentials:
    customer_key = secret_box.decrypt(connection.customer_key_encrypted)
    return PmsCredentials(
        system=PmsSystem(connection.system),
        base_url=connection.base_url,
        developer_key=secret_box.decrypt(connection.developer_key_encrypted),
        customer_key=customer_key,
        # Open Dental throttles per customer key: locations sharing one share its throttle.
        connection_key=_throttle_key(connection.base_url, customer_key),
        write_interval_seconds=connection.write_interval_seconds,
    )


async def connector_for_location(
    uow: UnitOfWork, secret_box: SecretBox, registry: ConnectorRegistry, location_id: str
) -> PmsConnector:
    connection = await uow.connections.get(location_id)
    if connection is None:
        raise ConnectionNotConfigured("the location has no PMS connection; an admin must set one")
    return registry.connector_for(credentials_of(connection, secret_box))


@dataclass(frozen=True)
class ConnectionCheck:
    name: str
    ok: bool
    message: str
    hint: str | None = None


async def connector_to_check(
    uow: UnitOfWork,
    principal: Principal,
    secret_box: SecretBox,
    registry: ConnectorRegistry,
    location_id: str,
) -> PmsConnector:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    return await connector_for_location(uow, secret_box, registry, location_id)


async def run_checks(connector: PmsConnector) -> list[ConnectionCheck]:
    """A real round trip. Run it outside any unit of work: the PMS may be slow."""
    reachable = ConnectionCheck("reachable", True, "the PMS answered")
    try:
        types = await connector.list_payment_types()
    except CredentialsError as exc:
        return [reachable, ConnectionCheck("credentials", False, exc.message, exc.hint)]
    except PermanentError as exc:
        return [reachable, ConnectionCheck("paymentTypes", False, exc.message, exc.hint)]
    except ConnectorError as exc:
        return [
            ConnectionCheck(
                "reachable",
                False,
                exc.message,
                "Check the API base URL and that the practice's PMS (and its eConnector) "
                "is running",
            )
        ]
    checks = [reachable, ConnectionCheck("credentials", True, "the keys were accepted")]
    if types:
        checks.append(ConnectionCheck("paymentTypes", True, f"{len(types)} payment types readable"))
    else:
        checks.append(
            ConnectionCheck(
                "paymentTypes",
                False,
                "no active payment types",
                "Add a payment type in the PMS definitions",
            )
        )
    return checks
