"""Live writeback events over graphql-transport-ws, fanned out through Redis pub/sub."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from app.bootstrap import Container
from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, setup_practice
from tests.fixtures.stack import Api, ClientFactory
from tests.fixtures.ws import connect, subscribe, wait_until_listening

pytestmark = pytest.mark.usefixtures("worker")


async def test_staff_watching_a_location_see_a_payment_succeed(
    practice: Practice, api: Api, container: Container
) -> None:
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(container, practice.location_id)
        submitted = (await practice.submit())["writeback"]
        events = await sub.events_until("SUCCEEDED")
    assert [e["status"] for e in events] == ["QUEUED", "POSTING", "SUCCEEDED"]
    assert {e["writebackId"] for e in events} == {submitted["id"]}
    assert events[-1]["pmsRecordId"]


async def test_staff_watching_a_location_see_a_failure_with_its_reason(
    practice: Practice, api: Api, container: Container
) -> None:
    async with connect(api.ws_url, practice.staff.key) as ws:
        sub = await subscribe(ws, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
        await wait_until_listening(container, practice.location_id)
        await practice.submit(patientRef="99999")
        failed = (await sub.events_until("FAILED"))[-1]
    assert failed["reason"]
    assert failed["hint"]


async def test_events_reach_subscribers_on_every_api_process(
    practice: Practice, api: Api, container: Container, database_url: str, clean_redis: str
) -> None:
    from api.app import create_app
    from app.bootstrap import bootstrap
    from app.servers import bound_socket, start_server, stop_server
    from tests.fixtures.stack import test_settings

    second = await bootstrap(test_settings(database_url), redis_url=clean_redis)
    sock = bound_socket()
    port = sock.getsockname()[1]
    server, task = await start_server(create_app(second), sock, lifespan="on")
    try:
        async with (
            connect(api.ws_url, practice.staff.key) as ws1,
            connect(f"ws://127.0.0.1:{port}/graphql", practice.staff.key) as ws2,
        ):
            sub1 = await subscribe(ws1, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
            sub2 = await subscribe(ws2, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
            await wait_until_listening(container, practice.location_id, count=2)
            await practice.submit()
            assert (await sub1.events_until("SUCCEEDED"))[-1]["status"] == "SUCCEEDED"
            assert (await sub2.events_until("SUCCEEDED"))[-1]["status"] == "SUCCEEDED"
    finally:
        await stop_server(server, task)
        await second.close()


async def test_a_caller_cannot_subscribe_to_another_organizations_location(
    practice: Practice,
    api: Api,
    container: Container,
    client_for: ClientFactory,
    opendental_simulator: Any,
) -> None:
    other = await setup_practice(
        container, client_for, opendental_simulator, name="Elsewhere Dental"
    )
    async with connect(api.ws_url, other.staff.key) as ws:
        sub = await subscribe(ws, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
        message = await sub.next_message()
    assert message["type"] == "next"
    assert message["payload"]["errors"][0]["message"] == "no such location"


async def test_subscribers_receive_nothing_of_another_organization(
    practice: Practice,
    api: Api,
    container: Container,
    client_for: ClientFactory,
    opendental_simulator: Any,
) -> None:
    other = await setup_practice(
        container, client_for, opendental_simulator, name="Elsewhere Dental"
    )
    async with connect(api.ws_url, other.staff.key) as ws:
        sub = await subscribe(ws, ops.WRITEBACK_EVENTS, {"locationId": other.location_id})
        await wait_until_listening(container, other.location_id)
        mine = (await practice.submit())["writeback"]
        await practice.wait_for_status(mine["id"], "SUCCEEDED")
        theirs = (await other.submit())["writeback"]
        events = await sub.events_until("SUCCEEDED")
    assert {e["writebackId"] for e in events} == {theirs["id"]}


async def test_a_partner_cannot_watch_live_events(
    practice: Practice, api: Api, client_for: ClientFactory
) -> None:
    key = (await practice.admin.execute(ops.CREATE_API_KEY, {"name": "p", "role": "PARTNER"}))[
        "createApiKey"
    ]
    async with connect(api.ws_url, key["secret"]) as ws:
        sub = await subscribe(ws, ops.WRITEBACK_EVENTS, {"locationId": practice.location_id})
        message = await sub.next_message()
    assert "staff" in message["payload"]["errors"][0]["message"]


async def test_a_socket_without_a_valid_key_is_rejected(practice: Practice, api: Api) -> None:
    async with connect(api.ws_url, "wbk_bad_key") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_the_legacy_graphql_ws_protocol_is_not_offered(practice: Practice, api: Api) -> None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with websockets.connect(api.ws_url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_a_key_revoked_while_its_socket_is_open_can_do_nothing_more(
    practice: Practice, api: Api
) -> None:
    key = (await practice.admin.execute(ops.CREATE_API_KEY, {"name": "temp", "role": "ADMIN"}))[
        "createApiKey"
    ]
    async with connect(api.ws_url, key["secret"]) as ws:
        sub = await subscribe(ws, "{ me { role } }", {}, op_id="a")
        assert (await sub.next_event())["me"]["role"] == "ADMIN"
        await practice.admin.execute(ops.REVOKE_API_KEY, {"id": key["apiKey"]["id"]})
        await ws.send(
            json.dumps(
                {
                    "id": "b",
                    "type": "subscribe",
                    "payload": {
                        "query": ops.CREATE_LOCATION,
                        "variables": {"name": "x", "tz": "UTC"},
                    },
                }
            )
        )
        message = await sub.next_message()
        while message.get("id") != "b":
            message = await sub.next_message()
    assert message["payload"]["errors"][0]["message"].startswith("authenticate with an API key")
