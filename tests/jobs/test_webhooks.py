"""Failure notices end to end: GraphQL -> worker -> simulator refuses -> grouped notice ->
signed webhook POSTed by the worker to a receiver over real HTTP, and resolved on recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arq.constants import default_queue_name, in_progress_key_prefix, job_key_prefix

from app.bootstrap import Container
from domain.job_names import webhook_job_id
from domain.persistence.base import utcnow
from jobs.context import CONTAINER
from jobs.sweeper import sweep_due_writebacks
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice
from tests.fixtures.redis import empty_our_redis
from tests.fixtures.stack import eventually
from tests.fixtures.webhooks import WebhookReceiver

pytestmark = pytest.mark.usefixtures("worker")

UNKNOWN_PATIENT = "99999"
NOTICE_KEYS = {
    "id",
    "location_id",
    "category",
    "message",
    "hint",
    "occurrences",
    "writeback_id",
    "writeback_ids",
    "created_at",
    "last_occurred_at",
    "acknowledged_at",
    "resolved_at",
}


async def set_webhook(practice: Practice, receiver: WebhookReceiver) -> str:
    result = (
        await practice.admin.execute(
            ops.SET_NOTIFICATION_WEBHOOK,
            {"locationId": practice.location_id, "url": receiver.url},
        )
    )["setNotificationWebhook"]
    assert result["__typename"] == "SetNotificationWebhookSuccess", result
    receiver.secret = result["secret"]
    return str(result["secret"])


async def fail_payment(practice: Practice) -> dict[str, Any]:
    submitted = await practice.submit(patientRef=UNKNOWN_PATIENT)
    return await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")


async def notices(practice: Practice) -> list[dict[str, Any]]:
    return (  # type: ignore[no-any-return]
        await practice.staff.execute(
            ops.NOTICES, {"locationId": practice.location_id, "unacknowledgedOnly": False}
        )
    )["notifications"]


async def deliveries(practice: Practice) -> list[dict[str, Any]]:
    return (  # type: ignore[no-any-return]
        await practice.staff.execute(ops.WEBHOOK_DELIVERIES, {"locationId": practice.location_id})
    )["webhookDeliveries"]


async def received(receiver: WebhookReceiver, count: int, timeout: float = 15) -> None:
    async def enough() -> bool:
        return len(receiver.delivered()) >= count

    await eventually(enough, timeout=timeout)


async def test_a_permanent_failure_opens_one_notice_and_posts_one_signed_webhook(
    practice: Practice, webhook_receiver: WebhookReceiver
) -> None:
    await set_webhook(practice, webhook_receiver)
    failed = await fail_payment(practice)
    await received(webhook_receiver, 1)

    [hook] = webhook_receiver.received
    assert hook.verified
    assert hook.headers["content-type"] == "application/json"
    assert hook.event == "notification.opened"
    body = hook.json
    assert body["event"] == "notification.opened"
    assert body["id"] == hook.delivery_id
    assert set(body["data"]) == NOTICE_KEYS
    assert body["data"]["writeback_ids"] == [failed["id"]]
    assert body["data"]["occurrences"] == 1
    assert body["data"]["hint"] == failed["failureHint"]
    assert failed["failureReason"] in body["data"]["message"]
    assert failed["sourceId"] in body["data"]["message"]

    [notice] = await notices(practice)
    assert notice["id"] == body["data"]["id"]
    assert notice["writebackIds"] == [failed["id"]]
    assert notice["occurrences"] == 1
    assert notice["resolvedAt"] is None

    [delivery] = await deliveries(practice)
    assert delivery["id"] == hook.delivery_id
    assert delivery["status"] == "DELIVERED"
    assert delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 200
    assert delivery["payload"] == body


async def test_five_failures_of_one_cause_are_one_notice_and_one_webhook(
    practice: Practice, webhook_receiver: WebhookReceiver
) -> None:
    await set_webhook(practice, webhook_receiver)
    submitted = [await practice.submit(patientRef=UNKNOWN_PATIENT) for _ in range(5)]
    ids = [s["writeback"]["id"] for s in submitted]
    for writeback_id in ids:
        await practice.wait_for_status(writeback_id, "FAILED")
    await received(webhook_receiver, 1)
    await asyncio.sleep(0.5)  # room for any further (wrong) webhook to arrive

    [notice] = await notices(practice)
    assert notice["occurrences"] == 5
    assert sorted(notice["writebackIds"]) == sorted(ids)
    assert notice["message"].startswith("5 writebacks failed for the same reason")
    assert webhook_receiver.events() == ["notification.opened"]
    assert len(await deliveries(practice)) == 1


async def test_a_receiver_answering_500_twice_gets_the_delivery_on_the_third_attempt(
    practice: Practice, webhook_receiver: WebhookReceiver
) -> None:
    await set_webhook(practice, webhook_receiver)
    webhook_receiver.answers = [500, 500]
    await fail_payment(practice)
    await received(webhook_receiver, 1)

    assert [r.answered for r in webhook_receiver.received] == [500, 500, 200]
    assert len({r.delivery_id for r in webhook_receiver.received}) == 1
    assert all(r.verified for r in webhook_receiver.received)
    assert len({r.body for r in webhook_receiver.received}) == 1
    [delivery] = await deliveries(practice)
    assert delivery["status"] == "DELIVERED"
    assert delivery["attempts"] == 3
    assert delivery["lastStatusCode"] == 200
    assert delivery["lastError"] is None
    assert delivery["deliveredAt"]


class TestAReceiverThatNeverAnswers:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"webhook_max_attempts": 3}

    async def test_a_delivery_ends_failed_after_its_last_attempt_with_the_log(
        self, practice: Practice, webhook_receiver: WebhookReceiver
    ) -> None:
        await set_webhook(practice, webhook_receiver)
        webhook_receiver.default = 503
        await fail_payment(practice)

        async def failed() -> bool:
            found = await deliveries(practice)
            return bool(found) and found[0]["status"] == "FAILED"

        await eventually(failed)
        [delivery] = await deliveries(practice)
        assert delivery["attempts"] == 3
        assert delivery["lastStatusCode"] == 503
        assert "HTTP 503" in delivery["lastError"]
        assert delivery["nextAttemptAt"] is None
        assert len(webhook_receiver.received) == 3


class TestRedisLostWithADeliveryPending:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # The retry after the first 500 waits in Redis long enough to be flushed with it.
        return {"webhook_retry_base_seconds": 120.0, "webhook_retry_cap_seconds": 120.0}

    async def test_the_sweeper_enqueues_it_again_and_it_is_delivered(
        self,
        practice: Practice,
        webhook_receiver: WebhookReceiver,
        container: Container,
        clean_redis: str,
    ) -> None:
        await set_webhook(practice, webhook_receiver)
        webhook_receiver.answers = [500]
        await fail_payment(practice)

        async def waiting_for_its_retry() -> bool:
            found = await deliveries(practice)
            if not found or found[0]["lastStatusCode"] != 500:
                return False
            job_id = webhook_job_id(found[0]["id"])
            scheduled = await container.arq.zscore(default_queue_name, job_id)
            running = await container.arq.exists(in_progress_key_prefix + job_id)
            return scheduled is not None and not running

        await eventually(waiting_for_its_retry)
        [pending] = await deliveries(practice)
        await empty_our_redis(clean_redis)  # the delivery's job is gone
        job_key = job_key_prefix + webhook_job_id(pending["id"])
        assert not await container.arq.exists(job_key)
        async with container.uow() as uow:  # time passes: the retry is due
            delivery = await uow.deliveries.get(pending["id"])
            assert delivery is not None
            delivery.next_attempt_at = utcnow()
            await uow.commit()

        await sweep_due_writebacks({CONTAINER: container})
        await received(webhook_receiver, 1)

        [delivery_row] = await deliveries(practice)
        assert delivery_row["status"] == "DELIVERED"
        assert delivery_row["attempts"] == 2
        assert [r.answered for r in webhook_receiver.received] == [500, 200]
        assert webhook_receiver.delivered()[0].verified


async def test_retrying_after_the_fix_resolves_the_notice_and_posts_a_resolved_webhook(
    practice: Practice, webhook_receiver: WebhookReceiver, opendental_simulator: Any
) -> None:
    await set_webhook(practice, webhook_receiver)
    failed = await fail_payment(practice)
    await received(webhook_receiver, 1)

    opendental_simulator.state.add_patient("Later", "Added", pat_num=int(UNKNOWN_PATIENT))
    retried = (await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": failed["id"]}))[
        "retryWriteback"
    ]
    assert retried["__typename"] == "RetryWritebackSuccess"
    await practice.wait_for_status(failed["id"], "SUCCEEDED")
    await received(webhook_receiver, 2)

    assert webhook_receiver.events() == ["notification.opened", "notification.resolved"]
    resolved = webhook_receiver.delivered()[1]
    assert resolved.verified
    assert resolved.json["data"]["resolved_at"]
    [notice] = await notices(practice)
    assert notice["resolvedAt"] == resolved.json["data"]["resolved_at"]
    assert {d["event"] for d in await deliveries(practice)} == {"OPENED", "RESOLVED"}
    body = b"".join(r.body for r in webhook_receiver.received)
    assert b"Later" not in body and b"Added" not in body


async def test_a_grouped_notice_is_resolved_only_once_every_writeback_on_it_is_posted(
    practice: Practice, opendental_simulator: Any
) -> None:
    first, second = await fail_payment(practice), await fail_payment(practice)
    opendental_simulator.state.add_patient("Later", "Added", pat_num=int(UNKNOWN_PATIENT))

    await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": first["id"]})
    await practice.wait_for_status(first["id"], "SUCCEEDED")
    [notice] = await notices(practice)
    assert notice["resolvedAt"] is None
    assert notice["occurrences"] == 2

    await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": second["id"]})
    await practice.wait_for_status(second["id"], "SUCCEEDED")
    [notice] = await notices(practice)
    assert notice["resolvedAt"] is not None


async def test_a_failure_after_the_notice_was_resolved_opens_a_new_notice(
    practice: Practice, opendental_simulator: Any
) -> None:
    failed = await fail_payment(practice)
    opendental_simulator.state.add_patient("Later", "Added", pat_num=int(UNKNOWN_PATIENT))
    await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": failed["id"]})
    await practice.wait_for_status(failed["id"], "SUCCEEDED")

    again = await practice.submit(patientRef="88888")
    await practice.wait_for_status(again["writeback"]["id"], "FAILED")
    newest, resolved = await notices(practice)
    assert resolved["resolvedAt"] is not None
    assert newest["resolvedAt"] is None
    assert newest["writebackIds"] == [again["writeback"]["id"]]
    assert newest["occurrences"] == 1


async def test_a_failure_after_acknowledgement_joins_the_notice_without_another_webhook(
    practice: Practice, webhook_receiver: WebhookReceiver
) -> None:
    await set_webhook(practice, webhook_receiver)
    await fail_payment(practice)
    await received(webhook_receiver, 1)
    [notice] = await notices(practice)
    ack = (await practice.staff.execute(ops.ACKNOWLEDGE_NOTIFICATION, {"id": notice["id"]}))[
        "acknowledgeNotification"
    ]
    assert ack["notification"]["acknowledgedAt"]

    await fail_payment(practice)
    await asyncio.sleep(0.5)
    [notice] = await notices(practice)
    assert notice["occurrences"] == 2
    # A new failure is news again: staff see it among the unacknowledged.
    assert notice["acknowledgedAt"] is None
    assert webhook_receiver.events() == ["notification.opened"]


class TestResendIntervalPassed:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"notice_resend_seconds": 0.0}

    async def test_a_further_occurrence_is_sent_as_an_update(
        self, practice: Practice, webhook_receiver: WebhookReceiver
    ) -> None:
        await set_webhook(practice, webhook_receiver)
        await fail_payment(practice)
        await received(webhook_receiver, 1)
        await fail_payment(practice)
        await received(webhook_receiver, 2)
        assert webhook_receiver.events() == ["notification.opened", "notification.updated"]
        assert webhook_receiver.delivered()[1].json["data"]["occurrences"] == 2


async def test_without_a_webhook_a_failure_still_opens_a_notice_and_posts_nothing(
    practice: Practice, webhook_receiver: WebhookReceiver
) -> None:
    await set_webhook(practice, webhook_receiver)
    removed = (
        await practice.admin.execute(
            ops.REMOVE_NOTIFICATION_WEBHOOK, {"locationId": practice.location_id}
        )
    )["removeNotificationWebhook"]
    assert removed == {
        "__typename": "RemoveNotificationWebhookSuccess",
        "locationId": practice.location_id,
        "removed": True,
    }
    await fail_payment(practice)
    await asyncio.sleep(0.3)
    assert len(await notices(practice)) == 1
    assert await deliveries(practice) == []
    assert webhook_receiver.received == []
