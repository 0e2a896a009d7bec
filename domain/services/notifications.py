"""Notices to the practice about writebacks that need a person.

A writeback that fails for good raises a notice for its location. While that notice is
open, further failures of the same cause (location, category, and the reason and hint with
ids and numbers left out) are grouped onto it instead of raising one each: occurrences and
last_occurred_at grow and the writeback joins its list. A notice is resolved once every
writeback on it has been posted since (for instance retried after the fix).

Every change is published live after commit on `location:<id>:notifications`. Opening and
resolving queue a signed webhook when the location has one; further occurrences queue one
at most once per `NoticePolicy.resend_seconds`, so a hundred failures are not a hundred
POSTs. Texts carry ids and the connector's staff-facing reason only, never PHI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import NotFound
from domain.events import notification_channel, notification_event
from domain.notices import NoticeEvent, group_key
from domain.persistence.base import utcnow
from domain.persistence.models import Notification, NotificationWriteback, WritebackIntent
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services import webhooks
from domain.services.tenancy import require_location

WRITEBACK_FAILED = "writeback_failed"
# Writeback ids listed on a notice (GraphQL, events, webhooks); occurrences has the count.
MAX_LISTED_WRITEBACKS = 100


@dataclass(frozen=True)
class NoticePolicy:
    # At most one webhook per open notice in this many seconds for further occurrences
    # (opening and resolving are always sent).
    resend_seconds: float = 900.0


def _first_message(intent: WritebackIntent, reason: str) -> str:
    return f"The {intent.kind} {intent.source_id} was not written to the PMS: {reason}"


def _grouped_message(intent: WritebackIntent, reason: str, occurrences: int) -> str:
    return (
        f"{occurrences} writebacks failed for the same reason; the latest, the {intent.kind} "
        f"{intent.source_id}, was not written to the PMS: {reason}"
    )


async def raise_writeback_failed(
    uow: UnitOfWork, intent: WritebackIntent, policy: NoticePolicy | None = None
) -> Notification:
    """In the failing unit of work: opens the cause's notice or adds this failure to it."""
    policy = policy or NoticePolicy()
    now = utcnow()
    reason = intent.failure_reason or "no reason was given"
    key = group_key(intent.location_id, WRITEBACK_FAILED, reason, intent.failure_hint)
    notice = await uow.notifications.open_for_group(
        {
            "organization_id": intent.organization_id,
            "location_id": intent.location_id,
            "intent_id": intent.id,
            "category": WRITEBACK_FAILED,
            "message": _first_message(intent, reason),
            "hint": intent.failure_hint,
            "created_at": now,
            "group_key": key,
            "open_group_key": key,
            "occurrences": 0,
            "last_occurred_at": now,
        }
    )
    opened = notice.occurrences == 0
    link = await uow.notifications.link(notice.id, intent.id)
    if link is None:
        uow.notifications.add_link(
            NotificationWriteback(notification_id=notice.id, intent_id=intent.id, added_at=now)
        )
    else:
        link.recovered_at = None
    notice.occurrences += 1
    notice.last_occurred_at = now
    if not opened:
        notice.message = _grouped_message(intent, reason, notice.occurrences)
        notice.hint = intent.failure_hint
        # A new failure is news again, even on a notice acknowledged before it.
        notice.acknowledged_at = None
        notice.acknowledged_by = None
    await uow.flush()
    resend_due = notice.last_webhook_at is None or (
        (now - notice.last_webhook_at).total_seconds() >= policy.resend_seconds
    )
    await _announce(
        uow,
        notice,
        NoticeEvent.OPENED if opened else NoticeEvent.UPDATED,
        now,
        opened or resend_due,
    )
    return notice


async def resolve_recovered(uow: UnitOfWork, intent: WritebackIntent) -> None:
    """In the unit of work where `intent` succeeded: it no longer counts on its open notices,
    and a notice with no failed writeback left is resolved (published, and webhooked)."""
    links = await uow.notifications.open_links_of_intent(intent.id)
    if not links:
        return
    now = utcnow()
    for link in links:
        notice = await uow.notifications.lock(link.notification_id)
        if notice is None or notice.resolved_at is not None:
            continue
        link.recovered_at = now
        await uow.flush()
        if await uow.notifications.unrecovered_count(notice.id) == 0:
            notice.resolved_at = now
            notice.open_group_key = None
            await uow.flush()
            await _announce(uow, notice, NoticeEvent.RESOLVED, now, webhook=True)
        else:
            await _announce(uow, notice, NoticeEvent.UPDATED, now, webhook=False)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def notice_data(notice: Notification, writeback_ids: Sequence[str]) -> dict[str, Any]:
    """The notice as events and webhooks carry it: ids, staff texts, counts, times; no PHI."""
    return {
        "id": notice.id,
        "location_id": notice.location_id,
        "category": notice.category,
        "message": notice.message,
        "hint": notice.hint,
        "occurrences": notice.occurrences,
        "writeback_id": notice.intent_id,
        "writeback_ids": list(writeback_ids),
        "created_at": _iso(notice.created_at),
        "last_occurred_at": _iso(notice.last_occurred_at),
        "acknowledged_at": _iso(notice.acknowledged_at),
        "resolved_at": _iso(notice.resolved_at),
    }


async def _announce(
    uow: UnitOfWork, notice: Notification, event: NoticeEvent, now: datetime, webhook: bool
) -> None:
    ids = (await uow.notifications.writeback_ids([notice.id], MAX_LISTED_WRITEBACKS))[notice.id]
    data = notice_data(notice, ids)
    uow.publish_after_commit(
        notification_channel(notice.location_id),
        notification_event(
            organization_id=notice.organization_id,
            location_id=notice.location_id,
            event=event.value,
            notification=data,
        ),
    )
    if not webhook:
        return
    delivery = await webhooks.queue_delivery(
        uow,
        organization_id=notice.organization_id,
        location_id=notice.location_id,
        notification_id=notice.id,
        event=event.value,
        data=data,
    )
    if delivery is not None:
        notice.last_webhook_at = now
        await uow.flush()


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
    if notification is None or not principal.may_see_location(notification.location_id):
        raise NotFound("no such notification")
    if notification.acknowledged_at is None:
        now = utcnow()
        notification.acknowledged_at = now
        notification.acknowledged_by = principal.key_id
        await uow.flush()
        # Live only: other staff screens see it handled; the webhook is not told.
        await _announce(uow, notification, NoticeEvent.UPDATED, now, webhook=False)
    await uow.flush()
    return notification


async def writeback_ids_of(
    uow: UnitOfWork, notification_ids: Sequence[str]
) -> dict[str, Sequence[str]]:
    return await uow.notifications.writeback_ids(notification_ids, MAX_LISTED_WRITEBACKS)
