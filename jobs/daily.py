"""Daily writeback runs: the sweeper creates due runs, this job sends a run's items out."""

from __future__ import annotations

from typing import Any

from domain.services import daily
from jobs.context import container_of


async def run_daily_writeback(ctx: dict[str, Any], run_id: str) -> int:
    container = container_of(ctx)
    async with container.uow() as uow:
        queued = await daily.start_run(uow, run_id)
        await uow.commit()
    return queued
