"""Maps a location's configured PMS system to the connector that speaks to it."""

from __future__ import annotations

import httpx

from connectors.opendental.connector import OpenDentalConnector
from domain.enums import PmsSystem
from domain.ports import Capabilities, PmsConnector, PmsCredentials, RateLimiter


class ConnectorRegistry:
    def __init__(
        self,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        timeout_seconds: float,
        max_throttle_wait_seconds: float,
    ) -> None:
        self._http = http
        self._limiter = limiter
        self._timeout = timeout_seconds
        self._max_throttle_wait = max_throttle_wait_seconds

    def supports(self, system: PmsSystem) -> bool:
        return system is PmsSystem.OPEN_DENTAL

    def capabilities(self, system: PmsSystem) -> Capabilities | None:
        return OpenDentalConnector.capabilities if system is PmsSystem.OPEN_DENTAL else None

    def connector_for(self, credentials: PmsCredentials) -> PmsConnector:
        if credentials.system is not PmsSystem.OPEN_DENTAL:
            raise LookupError(f"no connector for {credentials.system.value}")
        return OpenDentalConnector(
            credentials,
            self._http,
            self._limiter,
            timeout_seconds=self._timeout,
            max_throttle_wait_seconds=self._max_throttle_wait,
        )
