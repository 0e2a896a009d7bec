"""A practice whose PMS does not answer delays only its own writebacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.bootstrap import Container
from app.servers import bound_socket
from tests.fixtures.practice import Practice, setup_practice
from tests.fixtures.stack import ClientFactory

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Fewer worker slots than the unreachable practice has payments: without the per-practice
    # cap, its hanging calls would take every slot.
    return {
        "worker_max_jobs": 4,
        "max_postings_in_flight_per_connection": 2,
        "pms_timeout_seconds": 6,
    }


@dataclass
class Blackhole:
    """Accepts connections and reads requests, never answers: a PMS that hangs."""

    base_url: str
    developer_key: str
    customer_key: str
    connections: list[asyncio.StreamWriter]


@pytest.fixture
async def blackhole(opendental_simulator: Any) -> AsyncIterator[Blackhole]:
    writers: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await reader.read(4096):
            pass

    sock = bound_socket()
    server = await asyncio.start_server(swallow, sock=sock)
    port = sock.getsockname()[1]
    yield Blackhole(
        f"http://127.0.0.1:{port}/api/v1",
        opendental_simulator.developer_key,
        opendental_simulator.customer_key,
        writers,
    )
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_an_unreachable_practice_does_not_hold_up_another(
    practice: Practice,
    container: Container,
    client_for: ClientFactory,
    blackhole: Blackhole,
) -> None:
    stalled = await setup_practice(container, client_for, blackhole, name="Offline Dental")
    stalled_ids = [(await stalled.submit())["writeback"]["id"] for _ in range(8)]

    async def hanging_calls() -> bool:
        return len(blackhole.connections) >= 2

    from tests.fixtures.stack import eventually

    await eventually(hanging_calls)
    healthy = (await practice.submit())["writeback"]
    done = await practice.wait_for_status(healthy["id"], "SUCCEEDED")
    assert done["attempts"][-1]["outcome"] == "SUCCEEDED"

    # The offline practice's calls are still hanging (none has timed out yet), and never
    # more than its cap of them reached its PMS.
    outcomes = [a["outcome"] for i in stalled_ids for a in (await stalled.writeback(i))["attempts"]]
    assert "OUTCOME_UNKNOWN" not in outcomes
    assert len(blackhole.connections) <= 2
