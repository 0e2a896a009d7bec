"""Daily writeback: each location's scheduled payments go out once a day at its local time.

How switching timing treats waiting items: daily -> instant sends the location's scheduled
items right away (the practice asked for them to go out now); instant -> daily leaves items
already queued to finish, and only payments submitted afterwards wait for the daily run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.daily_schedule import latest_due_run
from domain.enums import PostingTiming, WritebackStatus
from domain.errors import NotFound
from domain.job_names import RUN_DAILY_WRITEBACK, daily_run_job_id
from domain.payment_settings import SETTINGS_KIND as PAYMENT_SETTINGS
from domain.payment_settings import PaymentWritebackSettings
from domain.persistence.base import new_id, utcnow
from domain.persistence.models import DailyRun, WritebackIntent
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services.status_events import publish_status
from domain.services.tenancy import require_location
from domain.writeback_state import check_transition

PENDING = "pending"
COMPLETED = "completed"


async def schedule_due_runs(uow: UnitOfWork, now: datetime) -> None:
    """Creates each daily location's latest due run if missing (idempotent, any scheduler)."""
    daily_settings = {
        row.location_id: settings
        for row in await uow.settings.all_of_kind(PAYMENT_SETTINGS)
        if (settings := PaymentWritebackSettings.from_dict(row.data)).timing is PostingTiming.DAILY
    }
    runs = []
    for location in await uow.locations.many_unscoped(list(daily_settings)):
        settings = daily_settings[location.id]
        local_date, cutoff = latest_due_run(
            now, settings.daily_time_of_day(), ZoneInfo(location.time_zone)
        )
        runs.append(
            {
                "id": new_id(),
                "organization_id": location.organization_id,
                "location_id": location.id,
                "run_key": local_date.isoformat(),
                "cutoff_at": cutoff,
                "status": PENDING,
                "item_count": 0,
                "created_at": now,
            }
        )
    await uow.daily_runs.create_missing(runs)


async def enqueue_pending_runs(uow: UnitOfWork, limit: int) -> int:
    """After commit, every run not yet done gets its job (a no-op if it is already queued)."""
    pending = await uow.daily_runs.pending(limit)
    for run in pending:
        uow.enqueue_after_commit(RUN_DAILY_WRITEBACK, run.id, job_id=daily_run_job_id(run.id))
    return len(pending)


async def trigger_now(uow: UnitOfWork, principal: Principal, location_id: str) -> DailyRun:
    """Staff send the location's scheduled items now instead of waiting for the daily time."""
    principal.require_staff()
    location = await require_location(uow, principal, location_id)
    now = utcnow()
    run = DailyRun(
        organization_id=location.organization_id,
        location_id=location.id,
        run_key=f"now:{now.isoformat()}",
        cutoff_at=now,
        status=PENDING,
        item_count=0,
        triggered_by=principal.key_id,
        created_at=now,
    )
    uow.daily_runs.add(run)
    await uow.flush()
    uow.enqueue_after_commit(RUN_DAILY_WRITEBACK, run.id, job_id=daily_run_job_id(run.id))
    return run


async def start_run(uow: UnitOfWork, run_id: str) -> int:
    """Queues the run's items, spaced at the connection's write interval.

    One transaction: a run killed before its commit left nothing half-done and runs again;
    after it, each item is an ordinary posting that the sweeper finishes if Redis loses it.
    """
    run = await uow.daily_runs.get(run_id)
    if run is None or run.status == COMPLETED:
        return 0
    connection = await uow.connections.get(run.location_id)
    interval = connection.write_interval_seconds if connection else 1.0
    items = await uow.intents.scheduled_up_to(run.location_id, run.cutoff_at)
    await queue_items(uow, items, interval, daily_run_id=run.id)
    run.status = COMPLETED
    run.item_count = len(items)
    run.completed_at = utcnow()
    await uow.flush()
    return len(items)


async def queue_items(
    uow: UnitOfWork, items: Sequence[WritebackIntent], interval: float, daily_run_id: str | None
) -> None:
    now = utcnow()
    for position, intent in enumerate(items):
        check_transition(WritebackStatus(intent.status), WritebackStatus.QUEUED)
        # Spaced at the PMS's rate, so the postings neither wait in worker slots for the
        # throttle nor bunch up; next_attempt_at keeps the sweeper from rushing them.
        delay = position * interval
        intent.status = WritebackStatus.QUEUED.value
        intent.daily_run_id = daily_run_id
        intent.next_attempt_at = now + timedelta(seconds=delay)
        intent.updated_at = now
        uow.enqueue_posting_after_commit(intent.kind, intent.id, defer_seconds=delay)
        publish_status(uow, intent)


async def list_runs(
    uow: UnitOfWork, principal: Principal, location_id: str, limit: int
) -> Sequence[DailyRun]:
    principal.require_staff()
    await require_location(uow, principal, location_id)
    return await uow.daily_runs.for_location(location_id, limit)


async def get_run(uow: UnitOfWork, principal: Principal, run_id: str) -> DailyRun:
    run = await uow.daily_runs.get_scoped(principal.organization_id, run_id)
    if run is None or not principal.may_see_location(run.location_id):
        raise NotFound("no such daily run")
    return run
