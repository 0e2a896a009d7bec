"""Posting one writeback intent. Safe to run twice: the database decides what is owed."""

from __future__ import annotations

from typing import Any

from arq import Retry

from domain.services.posting import post_writeback
from jobs.context import container_of


async def post_writeback_job(ctx: dict[str, Any], kind: str, intent_id: str) -> None:
    container = container_of(ctx)
    outcome = await post_writeback(container.uow, container.posting, intent_id)
    if outcome.defer_seconds is not None:
        # Re-run under the same job id, so the sweeper cannot add a second copy meanwhile.
        raise Retry(defer=outcome.defer_seconds)
