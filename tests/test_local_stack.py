"""The README's first command, driven as a newcomer would: a GraphQL client with the printed key."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from app.servers import bound_socket
from tests import graphql_ops as ops


@dataclass
class LocalStack:
    graphql_url: str
    simulator_url: str
    location_id: str
    admin_key: str


def _port() -> int:
    with bound_socket() as sock:
        return int(sock.getsockname()[1])


@pytest.fixture
async def local_stack(tmp_path: Path) -> AsyncIterator[LocalStack]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WRITEBACK_", "REDIS_URL", "DATABASE_URL"))
    }
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "local",
        "--port",
        str(_port()),
        "--simulator-port",
        str(_port()),
        "--state-dir",
        str(tmp_path / "state"),
    ]
    env["WRITEBACK_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'local.db'}"
    process = subprocess.Popen(  # noqa: ASYNC220  (a long-lived child, read from a thread)
        command,
        cwd=Path(__file__).parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed = ""
    try:
        async with asyncio.timeout(60):
            while "Ctrl-C stops." not in printed:
                line = await asyncio.to_thread(process.stdout.readline)
                if not line:
                    raise AssertionError(f"local stack exited:\n{printed}")
                printed += line

        def value(label: str) -> str:
            match = re.search(rf"{label}\s+(\S+)", printed)
            assert match, printed
            return match.group(1)

        yield LocalStack(
            value("GraphQL \\(GraphiQL\\)"),
            value("Open Dental sim"),
            value("location"),
            value("admin API key"),
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


async def test_a_newcomer_configures_subscribes_submits_and_sees_the_payment_posted(
    local_stack: LocalStack,
) -> None:
    headers = {"Authorization": f"Bearer {local_stack.admin_key}"}
    http = Client(transport=HTTPXAsyncTransport(url=local_stack.graphql_url, headers=headers))
    ws = Client(
        transport=WebsocketsTransport(
            url=local_stack.graphql_url.replace("http", "ws"), init_payload=headers
        )
    )
    async with http as session:
        types = (
            await session.execute(
                GraphQLRequest(
                    ops.PAYMENT_TYPES, variable_values={"locationId": local_stack.location_id}
                )
            )
        )["pmsPaymentTypes"]
        check = next(t["id"] for t in types if t["name"] == "Check")
        updated = (
            await session.execute(
                GraphQLRequest(
                    ops.UPDATE_SETTINGS,
                    variable_values={
                        "input": {
                            "locationId": local_stack.location_id,
                            "amountBasis": "NET",
                            "payTypes": [{"payType": check, "source": "CARD_TERMINAL"}],
                        }
                    },
                )
            )
        )["updatePaymentWritebackSettings"]
        assert updated["__typename"] == "UpdatePaymentWritebackSettingsSuccess", updated

        async with ws as live:
            events = live.subscribe(
                GraphQLRequest(
                    ops.WRITEBACK_EVENTS, variable_values={"locationId": local_stack.location_id}
                )
            )
            first_event = asyncio.ensure_future(events.__anext__())
            await asyncio.sleep(1.0)  # pub/sub only delivers to listeners already subscribed
            submitted = (
                await session.execute(
                    GraphQLRequest(
                        ops.SUBMIT_PAYMENT,
                        variable_values={
                            "input": {
                                "paymentId": "newcomer-1",
                                "locationId": local_stack.location_id,
                                "patientRef": "2",
                                "source": "CARD_TERMINAL",
                                "method": "CARD",
                                "grossAmount": "120.00",
                                "fee": "3.78",
                                "paidOn": date.today().isoformat(),
                            }
                        },
                    )
                )
            )["submitPayment"]
            assert submitted["__typename"] == "SubmitPaymentSuccess", submitted
            statuses = [(await asyncio.wait_for(first_event, 30))["writebackEvents"]["status"]]
            while statuses[-1] not in ("SUCCEEDED", "FAILED"):
                statuses.append(
                    (await asyncio.wait_for(events.__anext__(), 30))["writebackEvents"]["status"]
                )
            await events.aclose()
    assert statuses[-1] == "SUCCEEDED", statuses

    async with httpx.AsyncClient() as client:
        await asyncio.sleep(1)  # the simulated office allows one call per second per key
        response = await client.get(
            f"{local_stack.simulator_url}/payments",
            params={"PatNum": 2},
            headers={
                "Authorization": "ODFHIR sim-developer-key/sim-customer-key",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 200, response.text
    [payment] = [p for p in response.json() if submitted["writeback"]["marker"] in p["PayNote"]]
    assert Decimal(str(payment["PayAmt"])) == Decimal("116.22")
    assert str(payment["PayType"]) == check

    # The demo practice also writes its conversations back, as its settings map them.
    async with http as session:
        sms = (
            await session.execute(
                GraphQLRequest(
                    ops.SUBMIT_COMMUNICATION,
                    variable_values={
                        "input": {
                            "communicationId": "newcomer-sms-1",
                            "locationId": local_stack.location_id,
                            "patientRef": "2",
                            "type": "OUTGOING_SMS",
                            "occurredAt": datetime.now(UTC).isoformat(),
                            "text": "See you tomorrow at 9",
                        }
                    },
                )
            )
        )["submitCommunication"]
        assert sms["__typename"] == "SubmitWritebackSuccess", sms
        for _ in range(60):
            written = (
                await session.execute(
                    GraphQLRequest(
                        ops.GET_WRITEBACK, variable_values={"id": sms["writeback"]["id"]}
                    )
                )
            )["writeback"]
            if written["status"] in ("SUCCEEDED", "FAILED"):
                break
            await asyncio.sleep(0.5)
    assert written["status"] == "SUCCEEDED", written
    assert written["communication"]["channel"] == "TEXT"
