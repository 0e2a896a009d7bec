"""The life of a payment, end to end: GraphQL -> arq worker -> Open Dental simulator over HTTP."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from app.bootstrap import Container
from jobs.context import CONTAINER
from jobs.sweeper import sweep_due_writebacks
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, postings_with
from tests.fixtures.redis import empty_our_redis
from tests.fixtures.stack import RunningWorker, eventually, start_worker, stop_worker

pytestmark = pytest.mark.usefixtures("worker")


async def test_instant_payment_is_posted_once_net_of_fee_with_the_mapped_payment_type(
    practice: Practice, opendental_simulator: Any
) -> None:
    credit_card = await practice.payment_type_id("Credit Card")
    await practice.settings(
        payTypes=[{"payType": credit_card, "source": "CARD_TERMINAL", "method": "CARD"}]
    )

    submitted = await practice.submit(grossAmount="100.00", fee="3.20")
    assert submitted["writeback"]["status"] == "QUEUED"
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")

    [posted] = postings_with(opendental_simulator, done["marker"])
    assert posted["PayAmt"] == Decimal("96.80")
    assert str(posted["PayType"]) == credit_card
    assert str(posted["PayNum"]) == done["pmsRecordId"]
    assert done["attempts"][0]["outcome"] == "SUCCEEDED"
    assert done["settingsSnapshot"]["amount_basis"] == "net"


async def test_gross_basis_posts_the_full_amount(
    practice: Practice, opendental_simulator: Any
) -> None:
    await practice.settings(amountBasis="GROSS")
    submitted = await practice.submit(grossAmount="250.55", fee="7.45")
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    [posted] = postings_with(opendental_simulator, done["marker"])
    assert posted["PayAmt"] == Decimal("250.55")
    assert done["payment"]["postedAmount"] == "250.55"


@pytest.mark.parametrize(
    "source", ["CARD_TERMINAL", "PAYMENT_PLAN", "INSURANCE", "MEMBERSHIP", "COLLECTION"]
)
async def test_a_disabled_source_is_recorded_as_skipped_and_nothing_is_written(
    practice: Practice, opendental_simulator: Any, source: str
) -> None:
    await practice.settings(sources=[{"source": source, "enabled": False}])
    submitted = await practice.submit(source=source)
    assert submitted["writeback"]["status"] == "SKIPPED"
    await asyncio.sleep(0.3)
    assert opendental_simulator.state.post_count("payments") == 0


@pytest.mark.parametrize(
    "source", ["CARD_TERMINAL", "PAYMENT_PLAN", "INSURANCE", "MEMBERSHIP", "COLLECTION"]
)
async def test_a_manual_source_waits_for_staff_and_nothing_is_written(
    practice: Practice, opendental_simulator: Any, source: str
) -> None:
    await practice.settings(sources=[{"source": source, "enabled": True, "mode": "MANUAL"}])
    submitted = await practice.submit(source=source)
    assert submitted["writeback"]["status"] == "AWAITING_MANUAL"
    await asyncio.sleep(0.3)
    assert opendental_simulator.state.post_count("payments") == 0


@pytest.mark.parametrize("source", ["CARD_TERMINAL", "PAYMENT_PLAN", "MEMBERSHIP", "COLLECTION"])
async def test_an_enabled_automatic_source_is_posted(
    practice: Practice, opendental_simulator: Any, source: str
) -> None:
    submitted = await practice.submit(source=source)
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    assert len(postings_with(opendental_simulator, done["marker"])) == 1


async def test_daily_timing_leaves_the_payment_scheduled(
    practice: Practice, opendental_simulator: Any
) -> None:
    await practice.settings(timing="DAILY", dailyTime="17:30")
    submitted = await practice.submit()
    assert submitted["writeback"]["status"] == "SCHEDULED"
    assert submitted["writeback"]["settingsSnapshot"]["timing"] == "daily"
    await asyncio.sleep(0.3)
    assert opendental_simulator.state.post_count("payments") == 0


async def test_a_500_before_commit_is_retried_to_exactly_one_posting(
    practice: Practice, opendental_simulator: Any
) -> None:
    opendental_simulator.state.faults.fail_writes_before_commit(count=2, status=500)
    submitted = await practice.submit()
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    assert len(postings_with(opendental_simulator, done["marker"])) == 1
    outcomes = [a["outcome"] for a in done["attempts"]]
    # A 5xx on a write may hide a commit, so each is reconciled by marker before re-posting.
    assert outcomes == ["OUTCOME_UNKNOWN", "OUTCOME_UNKNOWN", "SUCCEEDED"]
    assert opendental_simulator.state.post_count("payments") == 3


async def test_a_timeout_after_the_pms_committed_is_reconciled_to_exactly_one_posting(
    practice: Practice, opendental_simulator: Any
) -> None:
    opendental_simulator.state.faults.hang_writes_after_commit(count=1, seconds=4)
    submitted = await practice.submit()
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    assert [a["outcome"] for a in done["attempts"]] == ["OUTCOME_UNKNOWN", "FOUND_EXISTING"]
    [posted] = postings_with(opendental_simulator, done["marker"])
    assert str(posted["PayNum"]) == done["pmsRecordId"]
    assert opendental_simulator.state.post_count("payments") == 1


async def test_a_500_after_commit_is_reconciled_without_a_second_post(
    practice: Practice, opendental_simulator: Any
) -> None:
    opendental_simulator.state.faults.fail_writes_after_commit(count=1, status=502)
    submitted = await practice.submit()
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    assert len(postings_with(opendental_simulator, done["marker"])) == 1
    assert opendental_simulator.state.post_count("payments") == 1


async def test_a_throttled_pms_is_retried_after_its_retry_after(
    practice: Practice, opendental_simulator: Any
) -> None:
    opendental_simulator.state.faults.throttle_calls(count=1, retry_after=1)
    submitted = await practice.submit()
    done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
    first, second = done["attempts"]
    assert first["outcome"] == "THROTTLED"
    gap = _seconds_between(first["finishedAt"], second["startedAt"])
    assert gap >= 0.95
    assert len(postings_with(opendental_simulator, done["marker"])) == 1


def _seconds_between(a: str, b: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


async def test_an_unknown_patient_fails_for_good_with_a_hint_and_a_notification(
    practice: Practice, opendental_simulator: Any
) -> None:
    submitted = await practice.submit(patientRef="99999")
    done = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")
    assert len(done["attempts"]) == 1
    assert done["attempts"][0]["outcome"] == "PERMANENT_ERROR"
    assert done["failureHint"]
    notes = (
        await practice.staff.execute(
            ops.NOTIFICATIONS, {"locationId": practice.location_id, "unacknowledgedOnly": True}
        )
    )["notifications"]
    [note] = [n for n in notes if n["writebackId"] == done["id"]]
    assert note["hint"] == done["failureHint"]
    ack = (await practice.staff.execute(ops.ACKNOWLEDGE_NOTIFICATION, {"id": note["id"]}))[
        "acknowledgeNotification"
    ]
    assert ack["notification"]["acknowledgedAt"]
    remaining = (
        await practice.staff.execute(
            ops.NOTIFICATIONS, {"locationId": practice.location_id, "unacknowledgedOnly": True}
        )
    )["notifications"]
    assert note["id"] not in [n["id"] for n in remaining]


async def test_retrying_a_failed_writeback_after_the_fix_posts_it_once(
    practice: Practice, opendental_simulator: Any
) -> None:
    submitted = await practice.submit(patientRef="777")
    failed = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")
    opendental_simulator.state.add_patient("Later", "Added", pat_num=777)
    retried = (await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": failed["id"]}))[
        "retryWriteback"
    ]
    assert retried["__typename"] == "RetryWritebackSuccess"
    done = await practice.wait_for_status(failed["id"], "SUCCEEDED")
    assert len(postings_with(opendental_simulator, done["marker"])) == 1
    again = (await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": failed["id"]}))[
        "retryWriteback"
    ]
    assert again["__typename"] == "InvalidStateError"


async def test_exhausted_transient_failures_end_failed_and_notify(
    practice: Practice, opendental_simulator: Any
) -> None:
    from tests.fixtures.simulator import free_port

    unreachable = (
        await practice.admin.execute(
            ops.SET_PMS_CONNECTION,
            {
                "input": {
                    "locationId": practice.location_id,
                    "system": "OPEN_DENTAL",
                    "baseUrl": f"http://127.0.0.1:{free_port()}/api/v1",
                    "developerKey": opendental_simulator.developer_key,
                    "customerKey": opendental_simulator.customer_key,
                    "writeIntervalSeconds": 0,
                }
            },
        )
    )["setPmsConnection"]
    assert unreachable["__typename"] == "SetPmsConnectionSuccess"
    submitted = await practice.submit()
    done = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")
    assert "could not be reached" in done["failureReason"]
    assert {a["outcome"] for a in done["attempts"]} == {"TRANSIENT_ERROR"}
    assert opendental_simulator.state.payments == []


async def test_a_redis_flush_mid_run_loses_nothing(
    practice: Practice,
    opendental_simulator: Any,
    container: Container,
    clean_redis: str,
    worker: RunningWorker,
) -> None:
    opendental_simulator.state.faults.latency_ms = 30
    await stop_worker(worker)
    ids = [(await practice.submit(paymentId=f"flush-{n}"))["writeback"]["id"] for n in range(12)]
    running = await start_worker(container)
    try:
        await eventually(lambda: _any_succeeded(practice, ids))
        await empty_our_redis(clean_redis)  # the queue and in-flight jobs are gone
        await sweep_due_writebacks({CONTAINER: container})
        for writeback_id in ids:
            await practice.wait_for_status(writeback_id, "SUCCEEDED", timeout=30)
    finally:
        await stop_worker(running)
    for writeback_id in ids:
        marker = (await practice.writeback(writeback_id))["marker"]
        assert len(postings_with(opendental_simulator, marker)) == 1


async def _any_succeeded(practice: Practice, ids: list[str]) -> bool:
    for writeback_id in ids:
        if (await practice.writeback(writeback_id))["status"] == "SUCCEEDED":
            return True
    return False


class TestOfficeCommittingLate:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"unknown_settle_seconds": 2.0}

    async def test_a_write_committed_after_a_500_is_found_not_posted_again(
        self, practice: Practice, opendental_simulator: Any
    ) -> None:
        # The office answers 500 at once and stores the payment a second later: a lookup
        # right away would find nothing and post a duplicate.
        opendental_simulator.state.faults.commit_writes_late(count=1, seconds=1.0, status=500)
        submitted = await practice.submit()
        done = await practice.wait_for_status(submitted["writeback"]["id"], "SUCCEEDED")
        assert [a["outcome"] for a in done["attempts"]] == ["OUTCOME_UNKNOWN", "FOUND_EXISTING"]
        assert len(postings_with(opendental_simulator, done["marker"])) == 1


async def test_keys_that_cannot_be_decrypted_fail_with_a_hint_instead_of_looping(
    practice: Practice, container: Container
) -> None:
    from sqlalchemy import select

    from domain.persistence.models import PmsConnection

    async with container.uow() as uow:
        connection = await uow.session.scalar(select(PmsConnection))
        assert connection is not None
        connection.customer_key_encrypted = b"written-under-another-secret-key"
        await uow.commit()
    submitted = await practice.submit()
    done = await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")
    assert "cannot be read" in done["failureReason"]
    assert "keys again" in done["failureHint"]
