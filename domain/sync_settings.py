"""What a location polls out of its PMS, and how often (pure rules).

Three resources, each with an on/off switch and a check interval: appointment status
(today's schedule, for the patient-flow board), appointments (every date) and patients,
plus whether patients' profile photos are fetched. Sync is off until an admin turns it on:
a read-only key polled without asking could starve the practice's own integrations.

Every poll costs at least one PMS request, and Open Dental throttles each customer key to
one request per interval for all calls (one per 5 s for a read-only key on the cloud
endpoint, one per second with any write permission). Settings whose polls together need
more requests than the connection's throttle allows are refused with the numbers, so a
schedule is never accepted that the PMS cannot honour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from domain.errors import FieldError

SETTINGS_KIND: Final = "sync"


class SyncResource(StrEnum):
    APPOINTMENT_STATUS = "appointment_status"
    APPOINTMENTS = "appointments"
    PATIENTS = "patients"


DEFAULT_INTERVAL_SECONDS: Final[Mapping[SyncResource, int]] = {
    SyncResource.APPOINTMENT_STATUS: 15,
    SyncResource.APPOINTMENTS: 60,
    SyncResource.PATIENTS: 30,
}
# Below a second the PMS's 1-second timestamps cannot tell polls apart; above a day the
# mirror is no longer a mirror.
MIN_INTERVAL_SECONDS: Final = 1
MAX_INTERVAL_SECONDS: Final = 86_400
# Share of the connection's request budget polling may use: the rest is for paging,
# photos and the writeback's own calls, which share the same throttle.
POLLING_SHARE: Final = 0.8
# Requests one patient poll may spend on photos (one listing plus one download each).
PHOTO_REQUESTS_PER_POLL: Final = 2


@dataclass(frozen=True)
class ResourceRule:
    enabled: bool
    interval_seconds: int


@dataclass(frozen=True)
class SyncSettings:
    resources: Mapping[SyncResource, ResourceRule] = field(default_factory=dict)
    patient_photos: bool = False

    def rule_for(self, resource: SyncResource) -> ResourceRule:
        return self.resources.get(resource, ResourceRule(False, DEFAULT_INTERVAL_SECONDS[resource]))

    def enabled(self) -> list[SyncResource]:
        return [r for r in SyncResource if self.rule_for(r).enabled]

    def with_changes(
        self,
        resources: Mapping[SyncResource, tuple[bool | None, int | None]],
        patient_photos: bool | None,
    ) -> SyncSettings:
        """A copy where the given switches and intervals (None: keep) are replaced."""
        merged = {r: self.rule_for(r) for r in SyncResource}
        for resource, (enabled, interval) in resources.items():
            current = merged[resource]
            merged[resource] = ResourceRule(
                current.enabled if enabled is None else enabled,
                current.interval_seconds if interval is None else interval,
            )
        return SyncSettings(
            merged, self.patient_photos if patient_photos is None else patient_photos
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "resources": {
                r.value: {
                    "enabled": self.rule_for(r).enabled,
                    "interval_seconds": self.rule_for(r).interval_seconds,
                }
                for r in SyncResource
            },
            "patient_photos": self.patient_photos,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyncSettings:
        return cls(
            resources={
                SyncResource(k): ResourceRule(bool(v["enabled"]), int(v["interval_seconds"]))
                for k, v in data.get("resources", {}).items()
            },
            patient_photos=bool(data.get("patient_photos", False)),
        )


def requests_per_poll(resource: SyncResource, settings: SyncSettings) -> int:
    """The fewest PMS requests one poll of `resource` makes (one page, photos if on)."""
    if resource is SyncResource.PATIENTS and settings.patient_photos:
        return 1 + PHOTO_REQUESTS_PER_POLL
    return 1


def requests_per_second(settings: SyncSettings) -> float:
    return sum(
        requests_per_poll(r, settings) / settings.rule_for(r).interval_seconds
        for r in settings.enabled()
    )


def validate(settings: SyncSettings, call_interval_seconds: float | None) -> list[FieldError]:
    """`call_interval_seconds`: the connection's throttle (seconds between two requests),
    None when the location has no PMS connection yet."""
    errors: list[FieldError] = []
    for resource in SyncResource:
        interval = settings.rule_for(resource).interval_seconds
        if not MIN_INTERVAL_SECONDS <= interval <= MAX_INTERVAL_SECONDS:
            errors.append(
                FieldError(
                    f"resources.{resource.value}.intervalSeconds",
                    f"must be between {MIN_INTERVAL_SECONDS} and {MAX_INTERVAL_SECONDS} seconds",
                )
            )
    if errors or not settings.enabled():
        return errors
    if call_interval_seconds is None:
        return [FieldError("resources", "connect the location's PMS before turning sync on")]
    if call_interval_seconds <= 0:
        return errors  # an unthrottled connection (Open Dental's local API service)
    budget = POLLING_SHARE / call_interval_seconds
    needed = requests_per_second(settings)
    if needed > budget:
        parts = ", ".join(
            f"{r.value.replace('_', ' ')} every {settings.rule_for(r).interval_seconds} s"
            for r in settings.enabled()
        )
        errors.append(
            FieldError(
                "resources",
                f"polling {parts} needs {needed * 60:.1f} PMS requests a minute, but the "
                f"connection allows one request every {call_interval_seconds:g} s "
                f"({budget * 60:.1f} a minute for polling, after leaving room for writes); "
                "lengthen the intervals, turn a resource or photos off, or raise the key's "
                "throttle in the connection settings",
            )
        )
    return errors
