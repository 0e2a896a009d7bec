"""HTTP to Open Dental's REST API: auth, shared throttle, exact JSON, and error mapping.

Every failure leaves here as one of the port's errors, decided by what may have happened
at the office: nothing (TransientError), a refusal (PermanentError / CredentialsError) or
possibly a write (OutcomeUnknownError). Messages never carry request or response data
beyond Open Dental's field validation text, so they are safe to log and show staff.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

from connectors.opendental.mapping import FIELD_HINTS
from domain.ports import (
    ConnectorError,
    CredentialsError,
    OutcomeUnknownError,
    PermanentError,
    PmsCredentials,
    RateLimiter,
    Throttled,
    TransientError,
)

PAGE_SIZE: Final = 100  # Remote API maximum rows per request
# A list longer than this means Open Dental is ignoring Offset; stop instead of looping.
MAX_PAGES: Final = 1000
# Longest slice of Open Dental's own error text we repeat in a message.
MAX_DETAIL_CHARS: Final = 160

HINT_CREDENTIALS: Final = (
    "Check the developer and customer keys in the connection settings, and that the key is "
    "enabled in Open Dental under Setup > Advanced Setup > API."
)
HINT_NOT_FOUND: Final = (
    "Check the Open Dental API URL in the connection settings and that the office runs an "
    "Open Dental version that offers this API call."
)
HINT_VERSION: Final = "Ask the office to update Open Dental; this API call needs a newer version."
HINT_URL: Final = "Check the Open Dental API URL in the connection settings."

_FIELD_RE: Final = re.compile(r"\b(" + "|".join(map(re.escape, FIELD_HINTS)) + r")\b", re.I)
_CANONICAL_FIELDS: Final = {name.lower(): name for name in FIELD_HINTS}
_FIELD_WORDS: Final = {"patient": "PatNum", "payment type": "PayType", "provider": "ProvNum"}
# Quoted parts of an error text may echo submitted values (names, notes): drop them.
_QUOTED_RE: Final = re.compile(r"(['\"`]).*?\1")


def encode_json(value: object) -> bytes:
    """JSON where Decimals are written with exactly their digits; floats are refused."""
    return _encode(value).encode("utf-8")


def _encode(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("amount is not a finite number")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    return json.dumps(value)


def decode_json(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


class OpenDentalClient:
    def __init__(
        self,
        credentials: PmsCredentials,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        timeout_seconds: float,
        max_throttle_wait_seconds: float,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._limiter = limiter
        self._timeout = httpx.Timeout(timeout_seconds)
        self._max_throttle_wait = max_throttle_wait_seconds
        self._base_url = credentials.base_url.rstrip("/")
        self._headers = {
            "Authorization": f"ODFHIR {credentials.developer_key}/{credentials.customer_key}",
            # Open Dental wants this on every request, GETs included.
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    async def get_one(self, path: str, *, action: str, hint: str) -> dict[str, Any] | None:
        """One object, or None when Open Dental answers 404."""
        response = await self._send("GET", path, action=action)
        if response.status_code == 404:
            return None
        self._check(response, action=action, hint=hint)
        return _object(self._json(response, action=action), action)

    async def get_page(
        self, path: str, params: Mapping[str, str | int], *, action: str, hint: str
    ) -> list[dict[str, Any]]:
        response = await self._send("GET", path, params=params, action=action)
        self._check(response, action=action, hint=hint)
        rows = self._json(response, action=action)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise TransientError(f"Open Dental sent an unexpected answer while {action}.")
        return rows

    async def pages(
        self, path: str, params: Mapping[str, str | int], *, action: str, hint: str
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """Pages of a list, following Limit/Offset until a short page."""
        offset = 0
        for _ in range(MAX_PAGES):
            paged = {**params, "Limit": PAGE_SIZE, "Offset": offset}
            page = await self.get_page(path, paged, action=action, hint=hint)
            yield page
            if len(page) < PAGE_SIZE:
                return
            offset += len(page)
        raise TransientError(f"Open Dental sent more pages than expected while {action}.")

    async def get_all(
        self, path: str, params: Mapping[str, str | int], *, action: str, hint: str
    ) -> list[dict[str, Any]]:
        return [
            row async for page in self.pages(path, params, action=action, hint=hint) for row in page
        ]

    async def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        action: str,
        hint: str,
        prefer_hint: bool = False,
    ) -> dict[str, Any]:
        """The created object. `prefer_hint`: a refusal gets `hint` even when Open Dental's
        text names a field, for calls whose refusals all have one remedy for staff."""
        return await self._write("POST", path, body, action=action, hint=hint, prefer=prefer_hint)

    async def put(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        action: str,
        hint: str,
        prefer_hint: bool = False,
    ) -> dict[str, Any]:
        """The updated object; Open Dental leaves fields absent from `body` unchanged."""
        return await self._write("PUT", path, body, action=action, hint=hint, prefer=prefer_hint)

    async def _write(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any],
        *,
        action: str,
        hint: str,
        prefer: bool,
    ) -> dict[str, Any]:
        response = await self._send(method, path, body=body, action=action)
        self._check(response, action=action, hint=hint, prefer_hint=prefer)
        return _object(self._json(response, action=action), action, write=True)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Reserve a slot, send, and map transport failures by what may have reached Open Dental.

        A read refused with 429 is sent once more after Retry-After when that is soon: our
        slots are spaced on Redis's clock, Open Dental measures arrivals on its own, and a
        slow first request can make two sends arrive closer than the slots were. Writes are
        never resent here; the posting job decides.
        """
        response = await self._send_once(method, path, action=action, params=params, body=body)
        if response.status_code == 429 and not _is_write(method):
            retry_after = _retry_after_seconds(response)
            if retry_after is not None and retry_after <= self._max_throttle_wait:
                await asyncio.sleep(retry_after)
                response = await self._send_once(
                    method, path, action=action, params=params, body=body
                )
        return response

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        content = encode_json(body) if body is not None else None
        # The limiter is shared by every worker; it raises Throttled itself when the slot
        # is too far away, before anything is sent.
        wait = await self._limiter.reserve(
            self._credentials.connection_key,
            self._credentials.write_interval_seconds,
            self._max_throttle_wait,
        )
        await asyncio.sleep(wait)
        try:
            return await self._http.request(
                method,
                f"{self._base_url}/{path.lstrip('/')}",
                params=dict(params) if params else None,
                content=content,
                headers=self._headers,
                timeout=self._timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(
                f"Could not connect to Open Dental while {action}; nothing was sent."
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise PermanentError("The Open Dental API URL is not valid.", HINT_URL) from exc
        except httpx.TransportError as exc:
            # Read/write timeouts and dropped connections: the request may have arrived.
            if _is_write(method):
                raise OutcomeUnknownError(
                    f"Open Dental did not answer while {action}; it may have been applied."
                ) from exc
            raise TransientError(f"Open Dental did not answer while {action}.") from exc

    def _check(
        self, response: httpx.Response, *, action: str, hint: str, prefer_hint: bool = False
    ) -> None:
        if not response.is_success:
            write = _is_write(response.request.method)
            raise error_for_response(
                response, write=write, action=action, hint=hint, prefer_hint=prefer_hint
            )

    def _json(self, response: httpx.Response, *, action: str) -> Any:
        try:
            return decode_json(response.text)
        except ValueError:
            if _is_write(response.request.method):
                raise OutcomeUnknownError(
                    f"Open Dental accepted {action} but its answer could not be read."
                ) from None
            raise TransientError(
                f"Open Dental's answer could not be read while {action}."
            ) from None


def _is_write(method: str) -> bool:
    return method.upper() not in ("GET", "HEAD", "OPTIONS")


def error_for_response(
    response: httpx.Response,
    *,
    write: bool,
    action: str,
    hint: str,
    prefer_hint: bool = False,
) -> ConnectorError:
    """The port error for a non-2xx answer; `hint` is used when no field is named, or for
    every refusal when `prefer_hint` (keys, versions and outages keep their own hints)."""
    status = response.status_code
    text = _error_text(response)
    lowered = text.lower()
    if status == 429:
        # Refused before processing: like our own throttle, it waits its turn without
        # spending the retry budget (Open Dental counts per customer key, we per connection).
        return Throttled(
            f"Open Dental throttled {action} (HTTP 429).",
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        return CredentialsError(
            f"Open Dental refused the API keys while {action} (HTTP {status}).", HINT_CREDENTIALS
        )
    # Open Dental also reports its own timeouts as 400: the office may have done the work.
    timed_out = status == 408 or (
        status == 400 and ("timed out" in lowered or "timeout" in lowered)
    )
    if status >= 500 or timed_out:
        if write:
            return OutcomeUnknownError(
                f"Open Dental answered HTTP {status} while {action}; it may have been applied."
            )
        return TransientError(f"Open Dental answered HTTP {status} while {action}.")
    if status == 400 and "econnector" in lowered:
        return TransientError(
            f"Open Dental's eConnector at the office is not reachable while {action} (HTTP 400); "
            "nothing was applied."
        )
    if status == 400 and "version" in lowered:
        return PermanentError(f"Open Dental is too old for {action} (HTTP 400).", HINT_VERSION)
    field = _field_in(text)
    if field is None:
        fallback = HINT_NOT_FOUND if status in (404, 405, 410) and not prefer_hint else hint
        return PermanentError(f"Open Dental refused {action} (HTTP {status}).", fallback)
    return PermanentError(
        f"Open Dental refused {action} (HTTP {status}): {_redact(text)}",
        hint if prefer_hint else FIELD_HINTS[field],
    )


def _field_in(text: str) -> str | None:
    """The field an error text is about: named outright, or as a word ("Patient not found.")."""
    match = _FIELD_RE.search(text)
    if match is not None:
        return _CANONICAL_FIELDS[match.group(1).lower()]
    lowered = text.lower()
    return next((f for word, f in _FIELD_WORDS.items() if word in lowered), None)


def _error_text(response: httpx.Response) -> str:
    """Open Dental answers errors with a bare JSON string; accept plain text and objects too."""
    try:
        body = decode_json(response.text)
    except ValueError:
        return response.text.strip()
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, dict):
        for key in ("message", "Message", "error"):
            if isinstance(body.get(key), str):
                return str(body[key]).strip()
    return ""


def _redact(text: str) -> str:
    cleaned = " ".join(_QUOTED_RE.sub("…", text).split())
    if len(cleaned) > MAX_DETAIL_CHARS:
        return cleaned[: MAX_DETAIL_CHARS - 1] + "…"
    return cleaned


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _object(value: Any, action: str, *, write: bool = False) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if write:
        raise OutcomeUnknownError(f"Open Dental accepted {action} but sent an unexpected answer.")
    raise TransientError(f"Open Dental sent an unexpected answer while {action}.")


def _retry_after_seconds(response: httpx.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None
