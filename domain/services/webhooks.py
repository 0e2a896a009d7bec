"""A location's notice webhook: set, removed, queued in the notice's unit of work, delivered.

Delivery is at least once: a receiver deduplicates on X-Writeback-Delivery. Each attempt is
leased in the database (attempt counted, next_attempt_at pushed past the send's timeout)
before anything is sent, so two workers never send the same delivery at once, and a worker
that dies mid-send is covered by the sweeper once the lease has run out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.errors import FieldError, ValidationFailed
from domain.job_names import DELIVER_WEBHOOK, webhook_job_id
from domain.persistence.base import new_id, utcnow
from domain.persistence.models import WebhookDelivery, WebhookEndpoint
from domain.persistence.uow import UnitOfWork
from domain.ports import SecretBox, WebhookAnswer, WebhookSender
from domain.principal import Principal
from domain.retry_policy import RetryPolicy
from domain.services.tenancy import require_location
from domain.webhooks import (
    DeliveryStatus,
    encode_body,
    generate_secret,
    signed_headers,
    url_problem,
)

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class WebhookDeps:
    secret_box: SecretBox
    sender: WebhookSender
    retry_policy: RetryPolicy
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class IssuedWebhook:
    endpoint: WebhookEndpoint
    # Shown once; stored encrypted.
    secret: str


async def set_webhook(
    uow: UnitOfWork, principal: Principal, secret_box: SecretBox, location_id: str, url: str
) -> IssuedWebhook:
    """Sets (or replaces) the location's webhook with a new signing secret."""
    principal.require_admin()
    location = await require_location(uow, principal, location_id)
    url = url.strip()
    problem = url_problem(url)
    if problem is not None:
        raise ValidationFailed([FieldError("url", problem)])
    now = utcnow()
    endpoint = await uow.webhooks.get(location.id)
    if endpoint is None:
        endpoint = WebhookEndpoint(
            location_id=location.id, organization_id=location.organization_id, created_at=now
        )
        uow.webhooks.add(endpoint)
    secret = generate_secret()
    endpoint.url = url
    endpoint.secret_encrypted = secret_box.encrypt(secret)
    endpoint.enabled = True
    endpoint.updated_at = now
    endpoint.updated_by = principal.key_id
    await uow.flush()
    return IssuedWebhook(endpoint, secret)


async def remove_webhook(uow: UnitOfWork, principal: Principal, location_id: str) -> bool:
    """Removes the webhook; deliveries still pending end failed. False if there was none."""
    principal.require_admin()
    location = await require_location(uow, principal, location_id)
    endpoint = await uow.webhooks.get(location.id)
    if endpoint is None:
        return False
    for delivery in await uow.deliveries.with_status(location.id, DeliveryStatus.PENDING):
        delivery.status = DeliveryStatus.FAILED.value
        delivery.last_error = "the webhook was removed"
        delivery.next_attempt_at = None
    await uow.webhooks.delete(endpoint)
    await uow.flush()
    return True


async def get_webhook(
    uow: UnitOfWork, principal: Principal, location_id: str
) -> WebhookEndpoint | None:
    principal.require_staff()
    location = await require_location(uow, principal, location_id)
    return await uow.webhooks.get(location.id)


async def list_deliveries(
    uow: UnitOfWork, principal: Principal, location_id: str, limit: int
) -> Sequence[WebhookDelivery]:
    principal.require_staff()
    location = await require_location(uow, principal, location_id)
    return await uow.deliveries.for_location(location.id, limit)


async def queue_delivery(
    uow: UnitOfWork,
    *,
    organization_id: str,
    location_id: str,
    notification_id: str,
    event: str,
    data: dict[str, Any],
) -> WebhookDelivery | None:
    """In the caller's unit of work: a delivery row when the location has an enabled
    webhook, and its job once that unit commits. None when there is no webhook."""
    endpoint = await uow.webhooks.get(location_id)
    if endpoint is None or not endpoint.enabled:
        return None
    now = utcnow()
    delivery_id = new_id()
    delivery = WebhookDelivery(
        id=delivery_id,
        organization_id=organization_id,
        location_id=location_id,
        notification_id=notification_id,
        event=event,
        payload={
            "id": delivery_id,
            "event": event,
            "created_at": now.isoformat(),
            "data": data,
        },
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.deliveries.add(delivery)
    uow.enqueue_after_commit(DELIVER_WEBHOOK, delivery_id, job_id=webhook_job_id(delivery_id))
    return delivery


@dataclass(frozen=True)
class _Leased:
    delivery_id: str
    attempt: int
    event: str
    url: str
    secret: str
    body: bytes


UowFactory = Callable[[], UnitOfWork]


async def deliver(new_uow: UowFactory, deps: WebhookDeps, delivery_id: str) -> float | None:
    """One attempt at a delivery. Returns seconds after which to run again, or None."""
    leased = await _lease(new_uow, deps, delivery_id)
    if not isinstance(leased, _Leased):
        return leased
    headers = signed_headers(leased.secret, leased.event, leased.delivery_id, leased.body)
    answer = await deps.sender.send(leased.url, leased.body, headers, deps.timeout_seconds)
    return await _record(new_uow, deps, leased, answer)


async def _lease(
    new_uow: UowFactory, deps: WebhookDeps, delivery_id: str
) -> _Leased | float | None:
    async with new_uow() as uow:
        now = utcnow()
        # Twice the send's own timeout (plus a second for the database): only once that has
        # run out may the sweeper hand the attempt to another worker.
        lease_until = now + timedelta(seconds=2 * deps.timeout_seconds + 1)
        claimed = await uow.deliveries.try_claim(
            delivery_id, DeliveryStatus.PENDING, now, lease_until
        )
        delivery = await uow.deliveries.get(delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return None
        if not claimed:
            # Not due yet, or another worker's attempt holds it: look again then.
            due = delivery.next_attempt_at or now
            return max((due - now).total_seconds(), 0.0) + 0.05
        endpoint = await uow.webhooks.get(delivery.location_id)
        secret: str | None = None
        problem = "the location has no enabled webhook"
        if endpoint is not None and endpoint.enabled:
            try:
                secret = deps.secret_box.decrypt(endpoint.secret_encrypted)
            except Exception:
                problem = "the webhook's secret cannot be read; an admin must set the webhook again"
        if endpoint is None or secret is None:
            # Nothing to send to: retrying cannot help.
            delivery.status = DeliveryStatus.FAILED.value
            delivery.last_error = problem
            delivery.next_attempt_at = None
            await uow.commit()
            return None
        leased = _Leased(
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            event=delivery.event,
            url=endpoint.url,
            secret=secret,
            body=encode_body(delivery.payload),
        )
        await uow.commit()
        return leased


async def _record(
    new_uow: UowFactory, deps: WebhookDeps, leased: _Leased, answer: WebhookAnswer
) -> float | None:
    async with new_uow() as uow:
        delivery = await uow.deliveries.get(leased.delivery_id, for_update=True)
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or delivery.attempts != leased.attempt
        ):
            # Removed, or our lease ran out and another attempt took over.
            return None
        now = utcnow()
        delivery.last_status_code = answer.status_code
        ok = answer.status_code is not None and 200 <= answer.status_code < 300
        defer: float | None = None
        if ok:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = now
            delivery.last_error = None
            delivery.next_attempt_at = None
        else:
            delivery.last_error = (
                answer.error or f"the receiver answered HTTP {answer.status_code}"
            )[:MAX_ERROR_CHARS]
            if deps.retry_policy.exhausted(delivery.attempts):
                delivery.status = DeliveryStatus.FAILED.value
                delivery.next_attempt_at = None
            else:
                defer = deps.retry_policy.delay(delivery.attempts)
                delivery.next_attempt_at = now + timedelta(seconds=defer)
        status, attempts = delivery.status, delivery.attempts
        await uow.commit()
    log.info(
        "webhook attempt recorded",
        extra={
            "delivery_id": leased.delivery_id,
            "attempt": attempts,
            "status": status,
            "status_code": answer.status_code,
        },
    )
    return defer


async def enqueue_due(uow: UnitOfWork, limit: int) -> int:
    """Re-enqueues pending deliveries that are due (their job may have been lost with Redis).
    Deterministic job ids make this a no-op for deliveries whose job is still queued."""
    due = await uow.deliveries.due(DeliveryStatus.PENDING, utcnow(), limit)
    for delivery_id in due:
        uow.enqueue_after_commit(DELIVER_WEBHOOK, delivery_id, job_id=webhook_job_id(delivery_id))
    return len(due)
