"""POSTs webhook deliveries with the container's shared HTTP client."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from domain.ports import WebhookAnswer

USER_AGENT = "writeback-engine-webhooks/1"


class HttpxWebhookSender:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout_seconds: float
    ) -> WebhookAnswer:
        try:
            response = await self._http.post(
                url,
                content=body,
                headers={"User-Agent": USER_AGENT, **headers},
                timeout=timeout_seconds,
                # A redirect would re-send the signed body somewhere the admin did not set.
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            return WebhookAnswer(None, f"no answer within {timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            # The type only: messages can carry the URL's query string.
            return WebhookAnswer(None, f"could not connect ({type(exc).__name__})")
        return WebhookAnswer(response.status_code)
