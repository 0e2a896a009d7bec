"""Fixtures shared by the Open Dental tests: raw API and control clients for the simulator,
and a connector on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from connectors.opendental import OpenDentalConnector
from domain.ports import PmsCredentials, Throttled
from tests.fixtures.simulator import OpenDentalSimulator


class FakeRateLimiter:
    """In-memory RateLimiter: records every reservation; can refuse like the Redis one."""

    def __init__(self, *, refuse_with: float | None = None) -> None:
        self.reservations: list[tuple[str, float, float]] = []
        self._refuse_with = refuse_with

    async def reserve(self, key: str, interval_seconds: float, max_wait_seconds: float) -> float:
        if self._refuse_with is not None:
            raise Throttled("slot too far away", retry_after=self._refuse_with)
        self.reservations.append((key, interval_seconds, max_wait_seconds))
        return 0.0


ConnectorFactory = Callable[..., OpenDentalConnector]


@pytest.fixture
async def api(opendental_simulator: OpenDentalSimulator) -> AsyncIterator[httpx.AsyncClient]:
    sim = opendental_simulator
    headers = {
        "Authorization": f"ODFHIR {sim.developer_key}/{sim.customer_key}",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(base_url=sim.base_url, headers=headers, timeout=5) as client:
        yield client


@pytest.fixture
async def control(opendental_simulator: OpenDentalSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=opendental_simulator.root_url, timeout=5) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def limiter() -> FakeRateLimiter:
    return FakeRateLimiter()


@pytest.fixture
def make_connector(
    opendental_simulator: OpenDentalSimulator, http: httpx.AsyncClient, limiter: FakeRateLimiter
) -> ConnectorFactory:
    def make(
        *, credentials: PmsCredentials | None = None, timeout_seconds: float = 5.0
    ) -> OpenDentalConnector:
        return OpenDentalConnector(
            credentials or opendental_simulator.credentials(),
            http,
            limiter,
            timeout_seconds=timeout_seconds,
            max_throttle_wait_seconds=2.0,
        )

    return make


@pytest.fixture
def connector(make_connector: ConnectorFactory) -> OpenDentalConnector:
    return make_connector()
