"""Notices to the practice about writebacks that need a person."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import NotFound
from domain.persistence.base import utcnow
from domain.persistence.models import Notification, WritebackIntent
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services.tenancy import require_location

WRITEBACK_FAILED = "writeback_failed"


def raise_writeback_failed(uow: UnitOfWork, intent: WritebackIntent) -> Notification:
    notification = Notification(
        organization_id=intent.organization_id,
        location_id=intent.location_id,
        intent_id=intent.id,
        category=WRITEBACK_FAILED,
        message=(
            f"The {intent.kind} {intent.source_id} was not written to the PMS: "
            f"{intent.failure_reason}"
        ),
        hint=intent.failure_hint,
        created_at=utcnow(),
    )
    uow.notifications.add(notification)
    return notification


async def list_notifications(
    uow: UnitOfWork,
    principal: Principal,
    location_id: str | None,
    unacknowledged_only: bool,
    limit: int,
) -> Sequence[Notification]:
    principal.require_staff()
    location_ids = None
    if location_id is not None:
        await require_location(uow, principal, location_id)
        location_ids = [location_id]
    return await uow.notifications.list(
        principal.organization_id, location_ids, unacknowledged_only, limit
    )


async def acknowledge(uow: UnitOfWork, principal: Principal, notification_id: str) -> Notification:
    principal.require_staff()
    notification = await uow.notifications.get(principal.organization_id, notification_id)
    if notification is None:
        raise NotFound("no such notification")
    if notification.acknowledged_at is None:
        notification.acknowledged_at = utcnow()
        notification.acknowledged_by = principal.key_id
    await uow.flush()
    return notification
