"""Re-enqueues what the database says is due, so losing Redis loses nothing."""

from __future__ import annotations

import logging
from typing import Any

from domain.persistence.base import utcnow
from domain.writeback_state import DUE_STATUSES
from jobs.context import container_of

log = logging.getLogger(__name__)


async def sweep_due_writebacks(ctx: dict[str, Any]) -> int:
    container = container_of(ctx)
    async with container.uow() as uow:
        due = await uow.intents.due(
            utcnow(), [s.value for s in DUE_STATUSES], container.settings.sweep_batch_size
        )
        owed = [(i.kind, i.id) for i in due]
    for kind, intent_id in owed:
        # Deterministic job ids make this a no-op for intents whose job is still in Redis.
        await container.jobs.enqueue_posting(kind, intent_id)
    if owed:
        log.info("sweeper enqueued due writebacks", extra={"count": len(owed)})
    return len(owed)
