"""Daily writeback runs at each location's local time, once, resumable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from app.bootstrap import Container
from domain.persistence.models import WritebackIntent
from jobs.context import CONTAINER
from jobs.sweeper import sweep_due_writebacks
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, postings_with, setup_practice
from tests.fixtures.redis import empty_our_redis
from tests.fixtures.stack import ClientFactory, eventually, start_worker, stop_worker

pytestmark = pytest.mark.usefixtures("worker")


async def scheduled(
    practice: Practice, count: int, created_at: datetime | None = None
) -> list[str]:
    ids = [(await practice.submit())["writeback"]["id"] for _ in range(count)]
    if created_at is not None:
        async with practice.container.uow() as uow:
            await uow.session.execute(
                update(WritebackIntent)
                .where(WritebackIntent.id.in_(ids))
                .values(created_at=created_at)
            )
            await uow.commit()
    return ids


async def statuses(practice: Practice, ids: list[str]) -> set[str]:
    return {(await practice.writeback(i))["status"] for i in ids}


async def test_each_location_runs_at_its_own_local_time_across_a_dst_change(
    container: Container, client_for: ClientFactory, opendental_simulator: Any
) -> None:
    chicago = await setup_practice(
        container, client_for, opendental_simulator, "Lakeside", "America/Chicago"
    )
    sydney = await setup_practice(
        container, client_for, opendental_simulator, "Harbour", "Australia/Sydney"
    )
    for practice in (chicago, sydney):
        await practice.settings(timing="DAILY", dailyTime="18:00")
    # Submitted on 14 March 2027, the day Chicago moves from CST (UTC-6) to CDT (UTC-5).
    submitted = datetime(2027, 3, 14, 12, 0, tzinfo=UTC)
    chicago_ids = await scheduled(chicago, 2, submitted)
    sydney_ids = await scheduled(sydney, 2, submitted)
    ctx = {CONTAINER: container}

    # 17:30 CDT in Chicago (it would be 18:30 had the clocks not changed): not yet.
    await sweep_due_writebacks(ctx, now=datetime(2027, 3, 14, 22, 30, tzinfo=UTC))
    # 18:30 CDT: Chicago's run for the 14th goes out; Sydney's 18:00 on the 15th is still ahead.
    await sweep_due_writebacks(ctx, now=datetime(2027, 3, 14, 23, 30, tzinfo=UTC))
    for i in chicago_ids:
        await chicago.wait_for_status(i, "SUCCEEDED")
    assert await statuses(sydney, sydney_ids) == {"SCHEDULED"}

    # 18:30 AEDT on the 15th in Sydney.
    await sweep_due_writebacks(ctx, now=datetime(2027, 3, 15, 7, 30, tzinfo=UTC))
    for i in sydney_ids:
        await sydney.wait_for_status(i, "SUCCEEDED")

    runs = (await chicago.staff.execute(ops.DAILY_RUNS, {"locationId": chicago.location_id}))[
        "dailyRuns"
    ]
    todays = next(r for r in runs if r["runKey"] == "2027-03-14")
    assert todays["cutoffAt"].startswith("2027-03-14T23:00:00")  # 18:00 CDT
    assert todays["itemCount"] == 2
    batch = (await chicago.staff.execute(ops.WRITEBACK_BATCH, {"id": chicago_ids[0]}))["writeback"]
    assert batch["dailyRunId"] == todays["id"]

    # Schedulers firing again change nothing: one run per day, each payment posted once.
    await sweep_due_writebacks(ctx, now=datetime(2027, 3, 14, 23, 31, tzinfo=UTC))
    assert len([r for r in runs if r["runKey"] == "2027-03-14"]) == 1
    for practice, ids in ((chicago, chicago_ids), (sydney, sydney_ids)):
        for i in ids:
            marker = (await practice.writeback(i))["marker"]
            assert len(postings_with(opendental_simulator, marker)) == 1


async def test_a_daily_run_killed_midway_and_rerun_posts_each_payment_once(
    practice: Practice,
    container: Container,
    opendental_simulator: Any,
    worker: Any,
    clean_redis: str,
) -> None:
    await practice.settings(timing="DAILY")
    ids = await scheduled(practice, 10)
    opendental_simulator.state.faults.latency_ms = 150
    run = (
        await practice.staff.execute(
            ops.RUN_DAILY_WRITEBACK_NOW, {"locationId": practice.location_id}
        )
    )["runDailyWritebackNow"]
    assert run["__typename"] == "RunDailyWritebackNowSuccess"

    async def some_posted() -> bool:
        return len(opendental_simulator.state.payments) >= 3

    await eventually(some_posted)
    await stop_worker(worker)  # the worker dies mid-run...
    await empty_our_redis(clean_redis)  # ...and the queue with it
    assert await statuses(practice, ids) != {"SUCCEEDED"}  # the run was cut off midway
    running = await start_worker(container)  # its sweeper picks up what is owed
    try:
        await sweep_due_writebacks({CONTAINER: container})
        for i in ids:
            await practice.wait_for_status(i, "SUCCEEDED", timeout=30)
    finally:
        await stop_worker(running)
    for i in ids:
        marker = (await practice.writeback(i))["marker"]
        assert len(postings_with(opendental_simulator, marker)) == 1


async def test_staff_can_send_the_scheduled_items_now(
    practice: Practice, opendental_simulator: Any
) -> None:
    await practice.settings(timing="DAILY", dailyTime="23:59")
    ids = await scheduled(practice, 3)
    run = (
        await practice.staff.execute(
            ops.RUN_DAILY_WRITEBACK_NOW, {"locationId": practice.location_id}
        )
    )["runDailyWritebackNow"]["run"]
    for i in ids:
        await practice.wait_for_status(i, "SUCCEEDED")
        assert (await practice.staff.execute(ops.WRITEBACK_BATCH, {"id": i}))["writeback"][
            "dailyRunId"
        ] == run["id"]
    runs = (await practice.staff.execute(ops.DAILY_RUNS, {"locationId": practice.location_id}))[
        "dailyRuns"
    ]
    [mine] = [r for r in runs if r["id"] == run["id"]]
    assert (mine["status"], mine["itemCount"], mine["runKey"][:4]) == ("completed", 3, "now:")


async def test_switching_from_daily_to_instant_sends_the_waiting_items(practice: Practice) -> None:
    await practice.settings(timing="DAILY", dailyTime="23:59")
    ids = await scheduled(practice, 2)
    await practice.settings(timing="INSTANT")
    for i in ids:
        await practice.wait_for_status(i, "SUCCEEDED")


async def test_another_organization_cannot_run_or_list_a_locations_daily_runs(
    practice: Practice, container: Container, client_for: ClientFactory, opendental_simulator: Any
) -> None:
    other = await setup_practice(container, client_for, opendental_simulator, "Elsewhere")
    result = (
        await other.staff.execute(ops.RUN_DAILY_WRITEBACK_NOW, {"locationId": practice.location_id})
    )["runDailyWritebackNow"]
    assert result["__typename"] == "NotFoundError"
    errors = await other.staff.errors(ops.DAILY_RUNS, {"locationId": practice.location_id})
    assert errors[0]["message"] == "no such location"
