"""Re-enqueues what the database says is due, so losing Redis loses nothing."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from domain.persistence.base import utcnow
from domain.services import daily
from domain.writeback_state import DUE_STATUSES
from jobs.context import container_of
from jobs.webhooks import sweep_due_deliveries

log = logging.getLogger(__name__)


async def sweep_due_writebacks(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Also the daily scheduler: creates each daily location's due run and (re)enqueues
    every run not yet done, so a lost job or a missed minute only delays a run."""
    container = container_of(ctx)
    now = now or utcnow()
    async with container.uow() as uow:
        await daily.schedule_due_runs(uow, now)
        await uow.commit()
    async with container.uow() as uow:
        await daily.enqueue_pending_runs(uow, container.settings.sweep_batch_size)
        await uow.commit()
    async with container.uow() as uow:
        due = await uow.intents.due(
            now, [s.value for s in DUE_STATUSES], container.settings.sweep_batch_size
        )
        owed = [(i.kind, i.id) for i in due]
    for kind, intent_id in owed:
        # Deterministic job ids make this a no-op for intents whose job is still in Redis.
        await container.jobs.enqueue_posting(kind, intent_id)
    if owed:
        log.info("sweeper enqueued due writebacks", extra={"count": len(owed)})
    await sweep_due_deliveries(container)
    return len(owed)
