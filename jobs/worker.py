"""arq worker: instant posting, daily runs, webhook deliveries, sync polling, the sweeper."""

from __future__ import annotations

from datetime import UTC

from arq import cron
from arq.connections import create_pool
from arq.worker import Worker, func

from app.bootstrap import Container, job_deserializer, job_serializer, redis_settings
from domain.job_names import (
    DELIVER_WEBHOOK,
    PLAN_LOCATION_SYNC,
    PLAN_SYNC,
    POLL_SYNC,
    POST_WRITEBACK,
    RUN_DAILY_WRITEBACK,
    SWEEP_DUE_WRITEBACKS,
    SYNC_TICK,
)
from jobs.context import CONTAINER
from jobs.daily import run_daily_writeback
from jobs.posting import post_writeback_job
from jobs.sweeper import sweep_due_writebacks
from jobs.sync import plan_location_sync, plan_sync, poll_sync_job, sync_tick
from jobs.webhooks import deliver_webhook_job

SWEEP_SECONDS = {0, 10, 20, 30, 40, 50}
SYNC_TICK_SECONDS = set(range(60))


async def build_worker(
    container: Container, *, burst: bool = False, handle_signals: bool = True
) -> Worker:
    """A worker with its own Redis pool: arq closes the pool it was given on shutdown."""
    s = container.settings
    pool = await create_pool(
        redis_settings(container.redis_url),
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
    )
    return Worker(
        functions=[
            func(
                post_writeback_job,
                name=POST_WRITEBACK,
                timeout=s.job_timeout_seconds,
                # Our own retry policy decides when to give up; arq's count must not.
                max_tries=1000,
                # No result key: it would block re-enqueueing the same job id.
                keep_result=0,
            ),
            func(
                run_daily_writeback,
                name=RUN_DAILY_WRITEBACK,
                timeout=s.job_timeout_seconds,
                max_tries=1000,
                keep_result=0,
            ),
            func(
                deliver_webhook_job,
                name=DELIVER_WEBHOOK,
                timeout=s.job_timeout_seconds,
                # Attempts are counted in the database (webhook_max_attempts), not by arq.
                max_tries=1000,
                keep_result=0,
            ),
            func(
                poll_sync_job,
                name=POLL_SYNC,
                timeout=s.job_timeout_seconds,
                # A poll is an idempotent upsert from the stored cursor; arq re-runs it only
                # after a shutdown cut it short.
                max_tries=3,
                keep_result=0,
            ),
            func(
                plan_location_sync,
                name=PLAN_LOCATION_SYNC,
                timeout=s.job_timeout_seconds,
                max_tries=3,
                keep_result=0,
            ),
        ],
        cron_jobs=[
            cron(
                sweep_due_writebacks,
                name=SWEEP_DUE_WRITEBACKS,
                second=SWEEP_SECONDS,
                unique=True,
                run_at_startup=True,
                # arq keeps a dead worker's job locked for the longest function timeout
                # plus 10 s, so no function may have a longer timeout than posting needs.
                timeout=s.job_timeout_seconds,
            ),
            # Hands out the sync polls due in the next moments (see jobs/sync.py).
            cron(
                sync_tick,
                name=SYNC_TICK,
                second=SYNC_TICK_SECONDS,
                unique=True,
                timeout=s.job_timeout_seconds,
            ),
            # Puts every enabled (location, resource) on the schedule, from the database.
            cron(
                plan_sync,
                name=PLAN_SYNC,
                second=SWEEP_SECONDS,
                unique=True,
                run_at_startup=True,
                timeout=s.job_timeout_seconds,
            ),
        ],
        redis_pool=pool,
        ctx={CONTAINER: container},
        burst=burst,
        poll_delay=s.worker_poll_delay_seconds,
        max_jobs=s.worker_max_jobs,
        handle_signals=handle_signals,
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
        keep_result=0,
        timezone=UTC,
    )
