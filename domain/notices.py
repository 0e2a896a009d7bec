"""Notices to the practice: what makes two failures "the same cause" (pure, no I/O)."""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum


class NoticeEvent(StrEnum):
    """What happened to a notice; also the webhook's X-Writeback-Event."""

    OPENED = "notification.opened"
    UPDATED = "notification.updated"
    RESOLVED = "notification.resolved"


_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Markers ([WB:<16 hex>]), tokens and other long hex ids.
_HEX_RE = re.compile(r"\b[0-9a-f]{8,}\b")
# Digits are ids, amounts or counts, except an HTTP status, which is part of the cause.
_DIGITS_RE = re.compile(r"(?<!\d)(?<!http )\d+")
_SPACE_RE = re.compile(r"\s+")


def normalize_cause(reason: str, hint: str | None) -> str:
    """The failure's cause without what differs from one item to the next (ids, numbers)."""
    text = f"{reason}\n{hint or ''}".lower()
    text = _UUID_RE.sub("#", text)
    text = _HEX_RE.sub("#", text)
    text = _DIGITS_RE.sub("#", text)
    return _SPACE_RE.sub(" ", text).strip()


def group_key(location_id: str, category: str, reason: str, hint: str | None) -> str:
    """Failures with the same key share one open notice instead of raising one each."""
    cause = normalize_cause(reason, hint)
    return hashlib.sha256(f"{location_id}\n{category}\n{cause}".encode()).hexdigest()[:40]
