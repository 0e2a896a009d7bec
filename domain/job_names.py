"""Job names and ids: the contract between what enqueues work and the worker that runs it."""

from __future__ import annotations

POST_WRITEBACK = "post_writeback"
SWEEP_DUE_WRITEBACKS = "sweep_due_writebacks"


def posting_job_id(kind: str, intent_id: str) -> str:
    return f"post:{kind}:{intent_id}"


RUN_DAILY_WRITEBACK = "run_daily_writeback"
SCHEDULE_DAILY_RUNS = "schedule_daily_runs"


def daily_run_job_id(run_id: str) -> str:
    return f"daily:{run_id}"


DELIVER_WEBHOOK = "deliver_webhook"


def webhook_job_id(delivery_id: str) -> str:
    return f"webhook:{delivery_id}"


POLL_SYNC = "poll_sync"
SYNC_TICK = "sync_tick"
PLAN_SYNC = "plan_sync"
PLAN_LOCATION_SYNC = "plan_location_sync"


def sync_poll_job_id(location_id: str, resource: str) -> str:
    """One poll per (location, resource) waits or runs at a time, whatever schedules it."""
    return f"sync:{location_id}:{resource}"


def sync_plan_job_id(location_id: str, settings_version: int) -> str:
    return f"syncplan:{location_id}:{settings_version}"
