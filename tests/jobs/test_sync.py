"""PMS sync against the Open Dental simulator over real HTTP, with the real worker."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.bootstrap import Container
from domain.events import appointment_channel, sync_status_channel
from domain.persistence.base import utcnow
from domain.persistence.sync_models import SyncedPatient, SyncedPatientPhoto, SyncState
from domain.services import sync
from domain.sync_settings import SyncResource
from tests import graphql_ops as ops
from tests import sync_ops
from tests.fixtures.practice import Practice, setup_practice
from tests.fixtures.redis import empty_our_redis
from tests.fixtures.simulator import OpenDentalSimulator, free_port
from tests.fixtures.stack import (
    Api,
    ClientFactory,
    RunningWorker,
    eventually,
    start_worker,
    stop_worker,
)
from tests.fixtures.ws import connect, subscribe, wait_until_listening


async def configure(
    practice: Practice, photos: bool | None = None, **intervals: int | None
) -> dict[str, Any]:
    """Turns the named resources on at the given interval (None: off)."""
    resources = [
        {"resource": name.upper(), "enabled": interval is not None, "intervalSeconds": interval}
        for name, interval in intervals.items()
    ]
    payload: dict[str, Any] = {"locationId": practice.location_id, "resources": resources}
    if photos is not None:
        payload["patientPhotos"] = photos
    result = (await practice.admin.execute(sync_ops.UPDATE_SYNC_SETTINGS, {"input": payload}))[
        "updateSyncSettings"
    ]
    assert result["__typename"] == "UpdateSyncSettingsSuccess", result
    return result["settings"]  # type: ignore[no-any-return]


async def state_of(container: Container, location_id: str, resource: SyncResource) -> SyncState:
    async with container.uow() as uow:
        state = await uow.sync.states.get(location_id, resource.value)
    return state or SyncState(polls=0, online=True, consecutive_failures=0)


async def polls(container: Container, location_id: str, resource: SyncResource) -> int:
    return (await state_of(container, location_id, resource)).polls or 0


async def poll_now(container: Container, practice: Practice, resource: SyncResource) -> Any:
    return await sync.poll(container.uow, container.sync, practice.location_id, resource)


async def patient_pages(practice: Practice, first: int = 100) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (
            await practice.staff.execute(
                sync_ops.PATIENTS,
                {"locationId": practice.location_id, "first": first, "after": after},
            )
        )["patients"]
        nodes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


@contextlib.asynccontextmanager
async def collected(container: Container, channel: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Events published on `channel` while the block runs (straight from Redis)."""
    events: list[dict[str, Any]] = []

    async def listen() -> None:
        async with contextlib.aclosing(container.events.subscribe(channel)) as stream:
            async for event in stream:
                events.append(event)

    task = asyncio.create_task(listen())

    async def listening() -> bool:
        return await container.events.subscribers(channel) >= 1

    await eventually(listening)
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.contextmanager
def frozen_clock(simulator: OpenDentalSimulator, at: datetime) -> Any:
    state = simulator.state
    original: Callable[[], datetime] = state.clock
    state.clock = lambda: at
    try:
        yield
    finally:
        state.clock = original
        state.stamp_filter_exclusive = False


async def test_a_status_change_in_the_pms_reaches_the_mirror_and_the_board_within_one_interval(
    practice: Practice, worker: RunningWorker, api: Api, container: Container
) -> None:
    interval = 2
    await configure(practice, appointment_status=interval)
    await eventually(
        lambda: _at_least(container, practice.location_id, SyncResource.APPOINTMENT_STATUS, 1)
    )
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, sync_ops.APPOINTMENT_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(
            container, practice.location_id, channel=appointment_channel(practice.location_id)
        )
        changed_at = time.monotonic()
        practice.simulator.state.set_confirmation(2, "Arrived")
        event = (await sub.next_event(timeout=10))["appointmentEvents"]
        elapsed = time.monotonic() - changed_at
    assert event["pmsId"] == "2"
    assert event["flowStatus"] == "ARRIVED"
    assert event["previousFlowStatus"] == "SCHEDULED"
    assert event["arrivedAt"] is not None
    # Within one interval, plus the moment a poll takes to run and publish.
    assert elapsed < interval + 1.5, elapsed
    board = (
        await practice.staff.execute(sync_ops.TODAY_SCHEDULE, {"locationId": practice.location_id})
    )["todaySchedule"]
    flows = {a["pmsId"]: a["flowStatus"] for a in board["appointments"]}
    assert flows == {"1": "CONFIRMED", "2": "ARRIVED", "3": "SCHEDULED", "4": "SCHEDULED"}


async def _at_least(container: Container, location_id: str, resource: SyncResource, n: int) -> bool:
    return await polls(container, location_id, resource) >= n


async def test_every_page_of_a_long_change_list_is_read_and_stored(
    practice: Practice, container: Container
) -> None:
    state = practice.simulator.state
    for n in range(230):
        state.add_patient(f"Paged{n:03d}", "Pat")
    await configure(practice, patients=30)
    outcome = await poll_now(container, practice, SyncResource.PATIENTS)
    assert outcome.rows == 235  # three pages of at most 100
    nodes = await patient_pages(practice, first=100)
    assert sorted(int(n["pmsId"]) for n in nodes) == list(range(1, 236))
    assert [n["lastName"] for n in nodes] == sorted(n["lastName"] for n in nodes)


async def test_the_overlap_window_catches_a_change_made_in_the_cursors_own_second(
    practice: Practice, container: Container
) -> None:
    simulator = practice.simulator
    await configure(practice, patients=30)
    with frozen_clock(simulator, datetime(2026, 11, 23, 9, 0, 0)):
        # A server whose DateTStamp means "strictly after": the cursor's own second is not
        # answered again, so a change made in it is only seen through the overlap.
        simulator.state.stamp_filter_exclusive = True
        for pat_num in simulator.state.patients:
            simulator.state.touch_patient(pat_num)
        await poll_now(container, practice, SyncResource.PATIENTS)
        simulator.state.patients[3]["LName"] = "Renamed"
        simulator.state.touch_patient(3)  # the same second the cursor was taken in
        outcome = await poll_now(container, practice, SyncResource.PATIENTS)
    assert outcome.changed == 1
    names = {n["pmsId"]: n["lastName"] for n in await patient_pages(practice)}
    assert names["3"] == "Renamed"


async def test_without_the_overlap_window_that_same_second_change_would_be_missed(
    practice: Practice, container: Container
) -> None:
    simulator = practice.simulator
    await configure(practice, patients=30)
    no_overlap = dataclasses.replace(container.sync, overlap_seconds=0)
    with frozen_clock(simulator, datetime(2026, 11, 23, 9, 0, 0)):
        simulator.state.stamp_filter_exclusive = True
        await sync.poll(container.uow, no_overlap, practice.location_id, SyncResource.PATIENTS)
        simulator.state.patients[3]["LName"] = "Renamed"
        simulator.state.touch_patient(3)
        outcome = await sync.poll(
            container.uow, no_overlap, practice.location_id, SyncResource.PATIENTS
        )
    assert outcome.changed == 0


async def test_nothing_is_published_again_when_nothing_changed(
    practice: Practice, container: Container
) -> None:
    await configure(practice, appointments=60)
    async with collected(container, appointment_channel(practice.location_id)) as events:
        first = await poll_now(container, practice, SyncResource.APPOINTMENTS)
        await eventually(lambda: _true(len(events) == 4))
        again = await poll_now(container, practice, SyncResource.APPOINTMENTS)
        practice.simulator.state.touch_appointment(1)  # re-stamped, content unchanged
        third = await poll_now(container, practice, SyncResource.APPOINTMENTS)
        await asyncio.sleep(0.3)
    assert (first.changed, again.changed, third.changed) == (4, 0, 0)
    assert {e["change"] for e in events} == {"created"}
    assert len(events) == 4


async def _true(value: bool) -> bool:
    return value


async def test_an_unreachable_pms_backs_off_and_shows_offline_while_another_location_keeps_its_interval(  # noqa: E501
    practice: Practice,
    worker: RunningWorker,
    container: Container,
    client_for: ClientFactory,
    opendental_simulator: OpenDentalSimulator,
) -> None:
    down = await setup_practice(container, client_for, opendental_simulator, name="Closed Door")
    unreachable = (
        await down.admin.execute(
            ops.SET_PMS_CONNECTION,
            {
                "input": {
                    "locationId": down.location_id,
                    "system": "OPEN_DENTAL",
                    "baseUrl": f"http://127.0.0.1:{free_port()}/api/v1",
                    "developerKey": "dev",
                    "customerKey": "cust",
                    "writeIntervalSeconds": 0,
                }
            },
        )
    )["setPmsConnection"]
    assert unreachable["__typename"] == "SetPmsConnectionSuccess"
    await configure(down, appointment_status=1)
    await configure(practice, appointment_status=1)
    resource = SyncResource.APPOINTMENT_STATUS
    await eventually(lambda: _at_least(container, practice.location_id, resource, 1))
    start = await polls(container, practice.location_id, resource)
    await asyncio.sleep(6)
    healthy_polls = await polls(container, practice.location_id, resource) - start
    down_state = await state_of(container, down.location_id, resource)
    assert healthy_polls >= 4, healthy_polls  # about one a second
    # Backing off (5 s after the first failure, then 10 s): a few attempts, not six.
    assert 1 <= down_state.polls <= 3, down_state.polls
    statuses = {
        s["resource"]: s
        for s in (await down.staff.execute(sync_ops.SYNC_STATUS, {"locationId": down.location_id}))[
            "syncStatus"
        ]
    }
    offline = statuses["APPOINTMENT_STATUS"]
    assert offline["health"] == "OFFLINE"
    assert offline["online"] is False
    assert "connect" in offline["lastError"].lower()
    assert statuses["PATIENTS"]["health"] == "DISABLED"
    healthy = (
        await practice.staff.execute(sync_ops.SYNC_STATUS, {"locationId": practice.location_id})
    )["syncStatus"]
    assert next(s for s in healthy if s["resource"] == "APPOINTMENT_STATUS")["health"] == "ONLINE"


async def test_settings_changes_take_effect_at_the_next_tick(
    practice: Practice, worker: RunningWorker, container: Container
) -> None:
    resource = SyncResource.APPOINTMENTS
    await configure(practice, appointments=1)
    await eventually(lambda: _at_least(container, practice.location_id, resource, 2))
    await configure(practice, appointments=None)
    await asyncio.sleep(1.2)  # a poll already handed out may still run
    stopped_at = await polls(container, practice.location_id, resource)
    await asyncio.sleep(2.5)
    assert await polls(container, practice.location_id, resource) == stopped_at
    await configure(practice, appointments=1)
    await eventually(
        lambda: _at_least(container, practice.location_id, resource, stopped_at + 2), timeout=6
    )
    changes = (
        await practice.admin.execute(
            sync_ops.SYNC_SETTINGS_CHANGES, {"locationId": practice.location_id}
        )
    )["syncSettingsChanges"]
    assert [c["version"] for c in changes] == [3, 2, 1]
    assert changes[1]["after"]["resources"]["appointments"]["enabled"] is False
    assert changes[1]["before"]["resources"]["appointments"]["enabled"] is True


async def test_photos_are_fetched_while_the_option_is_on_and_neither_kept_nor_served_when_off(
    practice: Practice, container: Container
) -> None:
    picture = b"\xff\xd8\xff\xe0 a tiny jpeg"
    practice.simulator.state.add_patient_picture(1, picture)
    await configure(practice, patients=30, photos=True)
    await poll_now(container, practice, SyncResource.PATIENTS)
    nodes = {n["pmsId"]: n for n in await patient_pages(practice)}
    assert nodes["1"]["hasPhoto"] is True
    photo = nodes["1"]["photo"]
    assert photo["contentType"] == "image/jpeg"
    assert photo["dataUrl"] == "data:image/jpeg;base64," + base64.b64encode(picture).decode()
    assert nodes["2"]["hasPhoto"] is False and nodes["2"]["photo"] is None

    await configure(practice, photos=False)
    nodes = {n["pmsId"]: n for n in await patient_pages(practice)}
    assert nodes["1"]["hasPhoto"] is False and nodes["1"]["photo"] is None
    await poll_now(container, practice, SyncResource.PATIENTS)
    assert await _photo_rows(container) == 0

    await configure(practice, photos=True)
    await poll_now(container, practice, SyncResource.PATIENTS)
    nodes = {n["pmsId"]: n for n in await patient_pages(practice)}
    assert nodes["1"]["photo"]["dataUrl"].endswith(base64.b64encode(picture).decode())


async def _photo_rows(container: Container) -> int:
    async with container.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count()).select_from(SyncedPatientPhoto)) or 0
        )


async def test_the_mirror_and_its_events_are_reachable_only_within_the_organization(
    practice: Practice,
    container: Container,
    api: Api,
    client_for: ClientFactory,
    opendental_simulator: OpenDentalSimulator,
) -> None:
    await configure(practice, appointments=60, patients=30)
    await poll_now(container, practice, SyncResource.APPOINTMENTS)
    await poll_now(container, practice, SyncResource.PATIENTS)
    other = await setup_practice(container, client_for, opendental_simulator, name="Elsewhere")
    own: dict[str, Any] = {"locationId": practice.location_id}
    today = datetime.now().date().isoformat()
    queries: list[tuple[str, dict[str, Any]]] = [
        (sync_ops.PATIENTS, {**own, "first": 10}),
        (sync_ops.APPOINTMENTS, {**own, "from": today, "to": today}),
        (sync_ops.TODAY_SCHEDULE, own),
        (sync_ops.SYNC_STATUS, own),
        (sync_ops.SYNC_SETTINGS, own),
    ]
    for query, variables in queries:
        errors = await other.staff.errors(query, variables)
        assert errors and errors[0]["message"] == "no such location", (query, errors)
    refused = (
        await other.admin.execute(
            sync_ops.UPDATE_SYNC_SETTINGS,
            {"input": {**own, "patientPhotos": True}},
        )
    )["updateSyncSettings"]
    assert refused["__typename"] == "NotFoundError"
    # The other organization's own mirror is empty: nothing leaked into it.
    mine = await other.staff.execute(
        sync_ops.PATIENTS, {"locationId": other.location_id, "first": 10}
    )
    assert mine["patients"]["edges"] == []
    for subscription in (sync_ops.APPOINTMENT_EVENTS, sync_ops.SYNC_STATUS_EVENTS):
        async with connect(api.ws_url, other.staff.key) as ws:
            sub = await subscribe(ws, subscription, own)
            message = await sub.next_message()
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["message"] == "no such location"
    partner_key = (
        await practice.admin.execute(ops.CREATE_API_KEY, {"name": "partner", "role": "PARTNER"})
    )["createApiKey"]["secret"]
    errors = await client_for(partner_key).errors(sync_ops.PATIENTS, {**own, "first": 10})
    assert errors and "staff" in errors[0]["message"]


async def test_the_sync_status_subscription_reports_a_pms_going_offline(
    practice: Practice, container: Container, api: Api
) -> None:
    await configure(practice, appointment_status=15)
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, sync_ops.SYNC_STATUS_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(
            container, practice.location_id, channel=sync_status_channel(practice.location_id)
        )
        practice.simulator.state.faults.latency_ms = 0
        async with container.uow() as uow:
            connection = await uow.connections.get(practice.location_id)
            assert connection is not None
            connection.base_url = f"http://127.0.0.1:{free_port()}/api/v1"
            await uow.commit()
        outcome = await poll_now(container, practice, SyncResource.APPOINTMENT_STATUS)
        event = (await sub.next_event())["syncStatusEvents"]
    assert outcome.result == sync.PollResult.FAILED
    assert event["resource"] == "APPOINTMENT_STATUS"
    assert event["online"] is False
    assert event["consecutiveFailures"] == 1


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # A poll job must fail fast against an unreachable PMS in these tests.
    return {"pms_timeout_seconds": 2.0}


async def test_a_schedule_lost_with_redis_is_planned_again_from_the_database(
    practice: Practice, container: Container, clean_redis: str
) -> None:
    await configure(practice, appointments=30, patients=None)
    member = sync.member_of(practice.location_id, SyncResource.APPOINTMENTS)
    stale = sync.member_of("gone-location", SyncResource.PATIENTS)
    await container.sync_schedule.plan(stale, 30, 0)
    await empty_our_redis(clean_redis)
    await container.sync_schedule.plan(stale, 30, 0)

    async with container.uow() as uow:
        planned = await sync.plan_all(uow, container.sync_schedule)

    assert planned == 1
    assert await container.sync_schedule.planned() == {member: 30}
    assert await container.sync_schedule.next_due(member) is not None


async def test_two_workers_share_the_polls_and_never_run_one_twice_at_once(
    practice: Practice, container: Container, worker: RunningWorker
) -> None:
    started: list[tuple[str, str, int, float, str]] = []
    container.extras["sync_stats"] = started  # each poll: (location, resource, due, start, ...)
    second = await start_worker(container)
    try:
        await configure(practice, appointment_status=1, appointments=1, patients=1)

        async def each_polled_thrice() -> bool:
            return all(
                [await _at_least(container, practice.location_id, r, 3) for r in SyncResource]
            )

        await eventually(each_polled_thrice)
    finally:
        await stop_worker(second)
    assert worker.worker.jobs_complete > 0 and second.worker.jobs_complete > 0
    ticks = [(resource, due) for _, resource, due, _, _ in started]
    assert len(ticks) == len(set(ticks)), "a tick was polled twice"


async def test_an_appointment_deleted_in_the_pms_leaves_todays_board(
    practice: Practice, container: Container
) -> None:
    await configure(practice, appointment_status=15)
    resource = SyncResource.APPOINTMENT_STATUS
    first = await poll_now(container, practice, resource)
    assert first.changed == 4
    deleted = practice.simulator.state.appointments.pop(0)  # no DateTStamp tells of this
    async with collected(container, appointment_channel(practice.location_id)) as events:
        for _ in range(container.sync.full_day_read_every):
            await poll_now(container, practice, resource)
        await eventually(lambda: _true(len(events) == 1))
    assert events[0]["change"] == "removed"
    assert events[0]["appointment"]["pms_id"] == str(deleted["AptNum"])
    board = (
        await practice.staff.execute(sync_ops.TODAY_SCHEDULE, {"locationId": practice.location_id})
    )["todaySchedule"]["appointments"]
    assert str(deleted["AptNum"]) not in {a["pmsId"] for a in board}
    assert len(board) == 3


async def test_a_picture_replaced_in_the_pms_is_picked_up_at_the_daily_recheck(
    practice: Practice, container: Container
) -> None:
    state = practice.simulator.state
    state.add_patient_picture(1, b"\xff\xd8\xff\xe0 old picture", taken=datetime(2026, 1, 1))
    await configure(practice, patients=30, photos=True)
    await poll_now(container, practice, SyncResource.PATIENTS)
    state.add_patient_picture(1, b"\xff\xd8\xff\xe0 new picture", taken=datetime(2026, 6, 1))

    await poll_now(container, practice, SyncResource.PATIENTS)  # checked today: not again
    assert await _photo_of(practice, "1") == b"\xff\xd8\xff\xe0 old picture"

    async with container.uow() as uow:
        await uow.session.execute(
            update(SyncedPatient).values(photo_checked_at=utcnow() - timedelta(hours=25))
        )
        await uow.commit()
    await poll_now(container, practice, SyncResource.PATIENTS)
    assert await _photo_of(practice, "1") == b"\xff\xd8\xff\xe0 new picture"


async def _photo_of(practice: Practice, pms_id: str) -> bytes:
    nodes = {n["pmsId"]: n for n in await patient_pages(practice)}
    return base64.b64decode(nodes[pms_id]["photo"]["dataUrl"].split(",", 1)[1])
