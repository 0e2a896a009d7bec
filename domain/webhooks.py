"""Signed webhooks, pure: the signature scheme a receiver verifies, URL rules, the body.

A delivery is POSTed with

    Content-Type: application/json
    X-Writeback-Event: notification.opened | notification.updated | notification.resolved
    X-Writeback-Delivery: <delivery id>     (the same on every retry: deduplicate on it)
    X-Writeback-Timestamp: <unix seconds when this attempt was sent>
    X-Writeback-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

Receivers recompute the HMAC over the raw body bytes with the secret shown once by
setNotificationWebhook, compare in constant time, and refuse timestamps too far from now.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

EVENT_HEADER = "X-Writeback-Event"
DELIVERY_HEADER = "X-Writeback-Delivery"
TIMESTAMP_HEADER = "X-Writeback-Timestamp"
SIGNATURE_HEADER = "X-Writeback-Signature"
SIGNATURE_PREFIX = "sha256="
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 500
DEFAULT_TOLERANCE_SECONDS = 300.0
_LOOPBACK_NAMES = {"localhost"}


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def signature(secret: str, timestamp: str | int, body: bytes | str) -> str:
    """The X-Writeback-Signature value for one attempt."""
    message = f"{timestamp}.".encode() + _as_bytes(body)
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    header: str | None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True if `header` signs `body` at `timestamp` with `secret`, and the timestamp is
    within `tolerance` seconds of `now` (replays of old deliveries are refused)."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    try:
        sent_at = int(str(timestamp))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), header.strip())


def signed_headers(
    secret: str, event: str, delivery_id: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted, so a retry sends the same."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook URL, or None: https (http only to this machine),
    a host, no credentials, at most MAX_URL_LENGTH characters."""
    if not url or len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url:
        return f"must be an https URL of at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return "is not a valid URL"
    if not host:
        return "must name a host, e.g. https://example.com/hooks/writeback"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials; verify the signature instead"
    if parts.fragment:
        return "must not have a #fragment"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None
    if parts.scheme == "http":
        return "must use https (http is accepted only for localhost)"
    return "must be an https URL"
