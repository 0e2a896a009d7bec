"""When each (location, resource) is polled, and what the patient-flow board shows (pure rules).

Polls of one (location, resource) fall on a fixed grid: `phase + k * interval`. The phase is
derived from the location and resource ids, so a thousand locations spread over the
interval instead of firing on the same second, every worker computes the same grid, and
the next poll is always the next grid point after the previous one: no drift however long
a poll takes. A poll that failed because the PMS is unreachable waits a backoff instead,
then rejoins the grid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from domain.sync_settings import SyncResource

# Unreachable PMS: wait base * 2^(failures-1), capped, but never less than the interval.
BACKOFF_BASE_SECONDS: Final = 5.0
BACKOFF_CAP_SECONDS: Final = 300.0


def schedule_member(location_id: str, resource: SyncResource) -> str:
    return f"{location_id}:{resource.value}"


def parse_member(member: str) -> tuple[str, SyncResource]:
    location_id, resource = member.rsplit(":", 1)
    return location_id, SyncResource(resource)


def phase_ms(location_id: str, resource: SyncResource, interval_ms: int) -> int:
    """Deterministic offset within the interval (jitter that every process agrees on)."""
    digest = hashlib.sha256(f"{location_id}|{resource.value}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % max(interval_ms, 1)


def next_grid_point(after_ms: int, interval_ms: int, phase: int) -> int:
    """The first `phase + k * interval_ms` strictly after `after_ms`."""
    k = (after_ms - phase) // interval_ms + 1
    return phase + k * interval_ms


def backoff_seconds(consecutive_failures: int, interval_seconds: float) -> float:
    exponential = BACKOFF_BASE_SECONDS * 2.0 ** max(consecutive_failures - 1, 0)
    return float(max(interval_seconds, min(BACKOFF_CAP_SECONDS, exponential)))


class FlowStatus(StrEnum):
    """Where an appointment's patient is, as the front desk sees it."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    SEATED = "seated"
    DISMISSED = "dismissed"
    COMPLETE = "complete"
    BROKEN = "broken"
    UNSCHEDULED = "unscheduled"
    PLANNED = "planned"
    OTHER = "other"


@dataclass(frozen=True)
class FlowFacts:
    appointment_status: str  # Open Dental AptStatus: Scheduled, Complete, Broken...
    confirmation_label: str | None  # the ApptConfirmed definition's name
    arrived_at: datetime | None
    seated_at: datetime | None
    dismissed_at: datetime | None


def flow_status(facts: FlowFacts) -> FlowStatus:
    status = facts.appointment_status.lower()
    if status == "broken":
        return FlowStatus.BROKEN
    if status in ("unschedlist", "asap"):
        return FlowStatus.UNSCHEDULED
    if status == "planned":
        return FlowStatus.PLANNED
    if facts.dismissed_at is not None:
        return FlowStatus.DISMISSED
    if facts.seated_at is not None:
        return FlowStatus.SEATED
    if facts.arrived_at is not None:
        return FlowStatus.ARRIVED
    if status == "complete":
        return FlowStatus.COMPLETE
    if status != "scheduled":
        return FlowStatus.OTHER
    if _is_confirmed(facts.confirmation_label):
        return FlowStatus.CONFIRMED
    return FlowStatus.SCHEDULED


def _is_confirmed(label: str | None) -> bool:
    # Offices name their confirmation statuses themselves; Open Dental's defaults say
    # "Appointment Confirmed" and eConfirm's "eConfirmed". "Unconfirmed" must not count.
    if not label:
        return False
    lowered = label.lower()
    return "confirmed" in lowered and "unconfirmed" not in lowered and "not " not in lowered
