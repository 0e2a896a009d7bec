"""Delivering one webhook. Safe to run twice: the database decides whether it is owed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from arq import Retry

from domain.services.webhooks import deliver, enqueue_due
from jobs.context import container_of

if TYPE_CHECKING:
    from app.bootstrap import Container

log = logging.getLogger(__name__)


async def deliver_webhook_job(ctx: dict[str, Any], delivery_id: str) -> None:
    container = container_of(ctx)
    defer = await deliver(container.uow, container.webhooks, delivery_id)
    if defer is not None:
        # The next attempt runs under the same job id, so the sweeper adds no second copy.
        raise Retry(defer=defer)


async def sweep_due_deliveries(container: Container) -> int:
    """Re-enqueues the pending deliveries the database says are due (lost with Redis)."""
    async with container.uow() as uow:
        count = await enqueue_due(uow, container.settings.sweep_batch_size)
        await uow.commit()
    if count:
        log.info("sweeper enqueued due webhook deliveries", extra={"count": count})
    return count
