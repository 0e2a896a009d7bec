"""Notices over GraphQL: the live subscription, the webhook's settings, and who may use them."""

from __future__ import annotations

from typing import Any

import pytest

from app.bootstrap import Container
from domain.events import notification_channel
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, setup_practice
from tests.fixtures.stack import Api, ClientFactory
from tests.fixtures.webhooks import WebhookReceiver
from tests.fixtures.ws import connect, subscribe, wait_until_listening

pytestmark = pytest.mark.usefixtures("worker")

UNKNOWN_PATIENT = "99999"


async def fail_payment(practice: Practice) -> dict[str, Any]:
    submitted = await practice.submit(patientRef=UNKNOWN_PATIENT)
    return await practice.wait_for_status(submitted["writeback"]["id"], "FAILED")


async def test_staff_watching_notices_see_one_opened_and_then_resolved(
    practice: Practice, api: Api, container: Container, opendental_simulator: Any
) -> None:
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, ops.NOTIFICATION_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(
            container, practice.location_id, channel=notification_channel(practice.location_id)
        )
        failed = await fail_payment(practice)
        opened = (await sub.next_event())["notificationEvents"]
        opendental_simulator.state.add_patient("Later", "Added", pat_num=int(UNKNOWN_PATIENT))
        await practice.staff.execute(ops.RETRY_WRITEBACK, {"id": failed["id"]})
        resolved = (await sub.next_event())["notificationEvents"]

    assert opened["event"] == "OPENED"
    assert opened["notification"]["writebackIds"] == [failed["id"]]
    assert opened["notification"]["occurrences"] == 1
    assert opened["notification"]["resolvedAt"] is None
    assert resolved["event"] == "RESOLVED"
    assert resolved["notification"]["id"] == opened["notification"]["id"]
    assert resolved["notification"]["resolvedAt"]


async def test_a_grouped_failure_reaches_watchers_as_an_update(
    practice: Practice, api: Api, container: Container
) -> None:
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, ops.NOTIFICATION_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(
            container, practice.location_id, channel=notification_channel(practice.location_id)
        )
        await fail_payment(practice)
        await fail_payment(practice)
        events = [(await sub.next_event())["notificationEvents"] for _ in range(2)]
    assert [e["event"] for e in events] == ["OPENED", "UPDATED"]
    assert events[1]["notification"]["occurrences"] == 2
    assert len(events[1]["notification"]["writebackIds"]) == 2


async def test_the_webhook_secret_is_shown_once_and_never_read_back(
    practice: Practice, webhook_receiver: WebhookReceiver
) -> None:
    result = (
        await practice.admin.execute(
            ops.SET_NOTIFICATION_WEBHOOK,
            {"locationId": practice.location_id, "url": webhook_receiver.url},
        )
    )["setNotificationWebhook"]
    assert result["__typename"] == "SetNotificationWebhookSuccess"
    assert result["secret"].startswith("whsec_")
    assert result["webhook"] == {
        "locationId": practice.location_id,
        "url": webhook_receiver.url,
        "enabled": True,
    }
    shown = (
        await practice.staff.execute(ops.NOTIFICATION_WEBHOOK, {"locationId": practice.location_id})
    )["notificationWebhook"]
    assert shown == {"url": webhook_receiver.url, "enabled": True}
    again = (
        await practice.admin.execute(
            ops.SET_NOTIFICATION_WEBHOOK,
            {"locationId": practice.location_id, "url": webhook_receiver.url},
        )
    )["setNotificationWebhook"]
    assert again["secret"] != result["secret"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",
        "ftp://example.com/hooks",
        "https://user:password@example.com/hooks",
        "https:///no-host",
        "not a url",
        "https://example.com/" + "a" * 500,
        "",
    ],
)
async def test_a_bad_webhook_url_is_a_validation_error(practice: Practice, url: str) -> None:
    result = (
        await practice.admin.execute(
            ops.SET_NOTIFICATION_WEBHOOK, {"locationId": practice.location_id, "url": url}
        )
    )["setNotificationWebhook"]
    assert result["__typename"] == "ValidationError"
    assert [f["field"] for f in result["fields"]] == ["url"]


async def test_http_is_accepted_for_localhost_only(practice: Practice) -> None:
    for url in ("http://localhost:9000/hooks", "http://[::1]:9000/hooks"):
        result = (
            await practice.admin.execute(
                ops.SET_NOTIFICATION_WEBHOOK, {"locationId": practice.location_id, "url": url}
            )
        )["setNotificationWebhook"]
        assert result["__typename"] == "SetNotificationWebhookSuccess", result


async def test_staff_cannot_set_or_remove_the_webhook(practice: Practice) -> None:
    set_result = (
        await practice.staff.execute(
            ops.SET_NOTIFICATION_WEBHOOK,
            {"locationId": practice.location_id, "url": "https://example.com/hooks"},
        )
    )["setNotificationWebhook"]
    removed = (
        await practice.staff.execute(
            ops.REMOVE_NOTIFICATION_WEBHOOK, {"locationId": practice.location_id}
        )
    )["removeNotificationWebhook"]
    assert set_result["__typename"] == "ForbiddenError"
    assert removed["__typename"] == "ForbiddenError"


async def test_a_partner_cannot_read_deliveries_or_the_webhook_or_watch_notices(
    practice: Practice, api: Api, client_for: ClientFactory
) -> None:
    key = (await practice.admin.execute(ops.CREATE_API_KEY, {"name": "p", "role": "PARTNER"}))[
        "createApiKey"
    ]["secret"]
    partner = client_for(key)
    variables = {"locationId": practice.location_id}
    for query in (ops.WEBHOOK_DELIVERIES, ops.NOTIFICATION_WEBHOOK):
        [error] = await partner.errors(query, variables)
        assert "staff" in error["message"]
    async with connect(api.ws_url, key) as ws:
        sub = await subscribe(ws, ops.NOTIFICATION_EVENTS, variables)
        message = await sub.next_message()
    assert "staff" in message["payload"]["errors"][0]["message"]


class TestAnotherOrganization:
    @pytest.fixture
    async def other(
        self, container: Container, client_for: ClientFactory, opendental_simulator: Any
    ) -> Practice:
        return await setup_practice(
            container, client_for, opendental_simulator, name="Elsewhere Dental"
        )

    async def test_cannot_list_or_acknowledge_this_locations_notices(
        self, practice: Practice, other: Practice
    ) -> None:
        await fail_payment(practice)
        [notice] = (
            await practice.staff.execute(
                ops.NOTICES, {"locationId": practice.location_id, "unacknowledgedOnly": True}
            )
        )["notifications"]

        [error] = await other.staff.errors(
            ops.NOTICES, {"locationId": practice.location_id, "unacknowledgedOnly": False}
        )
        assert error["message"] == "no such location"
        theirs = (await other.staff.execute(ops.NOTICES, {"unacknowledgedOnly": False}))[
            "notifications"
        ]
        assert theirs == []
        ack = (await other.staff.execute(ops.ACKNOWLEDGE_NOTIFICATION, {"id": notice["id"]}))[
            "acknowledgeNotification"
        ]
        assert ack == {"__typename": "NotFoundError", "message": "no such notification"}

    async def test_cannot_set_remove_or_read_this_locations_webhook(
        self, practice: Practice, other: Practice
    ) -> None:
        variables = {"locationId": practice.location_id}
        set_result = (
            await other.admin.execute(
                ops.SET_NOTIFICATION_WEBHOOK, {**variables, "url": "https://example.com/hooks"}
            )
        )["setNotificationWebhook"]
        assert set_result == {"__typename": "NotFoundError", "message": "no such location"}
        removed = (await other.admin.execute(ops.REMOVE_NOTIFICATION_WEBHOOK, variables))[
            "removeNotificationWebhook"
        ]
        assert removed["__typename"] == "NotFoundError"
        for query in (ops.WEBHOOK_DELIVERIES, ops.NOTIFICATION_WEBHOOK):
            [error] = await other.admin.errors(query, variables)
            assert error["message"] == "no such location"

    async def test_cannot_watch_this_locations_notices(
        self, practice: Practice, other: Practice, api: Api
    ) -> None:
        async with connect(api.ws_url, other.staff.key) as ws:
            sub = await subscribe(ws, ops.NOTIFICATION_EVENTS, {"locationId": practice.location_id})
            message = await sub.next_message()
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["message"] == "no such location"
