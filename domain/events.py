"""Live events: channel names and payloads (ids and statuses only, no PHI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def writeback_channel(location_id: str) -> str:
    return f"location:{location_id}:writebacks"


def writeback_event(
    *,
    organization_id: str,
    location_id: str,
    intent_id: str,
    kind: str,
    source_id: str,
    status: str,
    reason: str | None = None,
    hint: str | None = None,
    pms_record_id: str | None = None,
) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "location_id": location_id,
        "intent_id": intent_id,
        "kind": kind,
        "source_id": source_id,
        "status": status,
        "reason": reason,
        "hint": hint,
        "pms_record_id": pms_record_id,
        "at": datetime.now(UTC).isoformat(),
    }


def notification_channel(location_id: str) -> str:
    return f"location:{location_id}:notifications"


def notification_event(
    *, organization_id: str, location_id: str, event: str, notification: dict[str, Any]
) -> dict[str, Any]:
    """`notification` is the notice as webhooks carry it: ids and staff text, no PHI."""
    return {
        "organization_id": organization_id,
        "location_id": location_id,
        "event": event,
        "notification": notification,
        "at": datetime.now(UTC).isoformat(),
    }


def appointment_channel(location_id: str) -> str:
    return f"location:{location_id}:appointments"


def sync_status_channel(location_id: str) -> str:
    return f"location:{location_id}:sync"


def appointment_event(
    *, organization_id: str, location_id: str, change: str, appointment: dict[str, Any]
) -> dict[str, Any]:
    """`appointment`: ids, times and statuses of the mirrored appointment (no names)."""
    return {
        "organization_id": organization_id,
        "location_id": location_id,
        "change": change,
        "appointment": appointment,
        "at": datetime.now(UTC).isoformat(),
    }


def sync_status_event(
    *, organization_id: str, location_id: str, status: dict[str, Any]
) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "location_id": location_id,
        "status": status,
        "at": datetime.now(UTC).isoformat(),
    }
