"""Payment writeback settings of a location and the decision they make for one payment.

Pure rules: no I/O, no framework.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from typing import Any

from domain.enums import (
    AmountBasis,
    PaymentMethod,
    PaymentSource,
    PostingMode,
    PostingTiming,
    WritebackStatus,
)
from domain.errors import FieldError
from domain.ports import Capabilities

# Key of these settings among a location's settings.
SETTINGS_KIND = "payment_writeback"

_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class SourceRule:
    enabled: bool = True
    mode: PostingMode = PostingMode.AUTOMATIC


@dataclass(frozen=True)
class PayTypeMapping:
    """PMS payment type for a source and/or method; None matches any."""

    pay_type: str
    source: PaymentSource | None = None
    method: PaymentMethod | None = None

    @property
    def specificity(self) -> int:
        return (2 if self.source is not None else 0) + (1 if self.method is not None else 0)


def _default_sources() -> dict[PaymentSource, SourceRule]:
    rules = {source: SourceRule() for source in PaymentSource}
    # Open Dental takes insurance money only through claim payments, so posting it
    # as a patient payment would misstate the ledger; off until the practice decides.
    rules[PaymentSource.INSURANCE] = SourceRule(enabled=False, mode=PostingMode.MANUAL)
    return rules


@dataclass(frozen=True)
class PaymentWritebackSettings:
    sources: Mapping[PaymentSource, SourceRule] = field(default_factory=_default_sources)
    timing: PostingTiming = PostingTiming.INSTANT
    daily_time: str = "18:00"
    amount_basis: AmountBasis = AmountBasis.NET
    pay_types: tuple[PayTypeMapping, ...] = ()
    # With gross amounts: also write each fee as a PMS adjustment of this type (its id),
    # so the ledger matches the deposits. None: fees are not written.
    fee_adjustment_type: str | None = None
    # The sign the PMS requires for that type ("-" reduces the balance); read from the PMS
    # when the type is chosen.
    fee_adjustment_sign: str = "-"

    def rule_for(self, source: PaymentSource) -> SourceRule:
        return self.sources.get(source, SourceRule(enabled=False))

    def pay_type_for(self, source: PaymentSource, method: PaymentMethod) -> str | None:
        candidates = [
            m for m in self.pay_types if m.source in (None, source) and m.method in (None, method)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda m: m.specificity).pay_type

    def daily_time_of_day(self) -> time:
        hour, minute = self.daily_time.split(":")
        return time(int(hour), int(minute))

    def with_changes(self, **changes: Any) -> PaymentWritebackSettings:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": {
                s.value: {"enabled": r.enabled, "mode": r.mode.value}
                for s, r in sorted(self.sources.items())
            },
            "timing": self.timing.value,
            "daily_time": self.daily_time,
            "amount_basis": self.amount_basis.value,
            "fee_adjustment_type": self.fee_adjustment_type,
            "fee_adjustment_sign": self.fee_adjustment_sign,
            "pay_types": [
                {
                    "pay_type": m.pay_type,
                    "source": m.source.value if m.source else None,
                    "method": m.method.value if m.method else None,
                }
                for m in self.pay_types
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaymentWritebackSettings:
        sources = _default_sources()
        for key, value in data.get("sources", {}).items():
            sources[PaymentSource(key)] = SourceRule(
                enabled=bool(value["enabled"]), mode=PostingMode(value["mode"])
            )
        return cls(
            sources=sources,
            timing=PostingTiming(data.get("timing", PostingTiming.INSTANT)),
            daily_time=str(data.get("daily_time", "18:00")),
            amount_basis=AmountBasis(data.get("amount_basis", AmountBasis.NET)),
            fee_adjustment_type=data.get("fee_adjustment_type"),
            fee_adjustment_sign=str(data.get("fee_adjustment_sign", "-")),
            pay_types=tuple(
                PayTypeMapping(
                    pay_type=str(m["pay_type"]),
                    source=PaymentSource(m["source"]) if m.get("source") else None,
                    method=PaymentMethod(m["method"]) if m.get("method") else None,
                )
                for m in data.get("pay_types", [])
            ),
        )


def validate_settings(
    settings: PaymentWritebackSettings,
    capabilities: Capabilities | None,
    known_pay_types: Collection[str] | None,
    known_adjustment_types: Collection[str] | None = None,
) -> list[FieldError]:
    """Check settings against the rules and what the location's PMS offers.

    `known_pay_types` None means the PMS list could not be read (no connection yet).
    """
    errors: list[FieldError] = []
    if not _TIME_OF_DAY.match(settings.daily_time):
        errors.append(FieldError("dailyTime", "must be a local time of day as HH:MM (24 h)"))
    seen: set[tuple[PaymentSource | None, PaymentMethod | None]] = set()
    for i, mapping in enumerate(settings.pay_types):
        key = (mapping.source, mapping.method)
        if key in seen:
            errors.append(
                FieldError(f"payTypes[{i}]", "duplicate mapping for this source and method")
            )
        seen.add(key)
        if known_pay_types is None:
            errors.append(
                FieldError(
                    f"payTypes[{i}]",
                    "connect the location's PMS first so payment types can be checked",
                )
            )
        elif mapping.pay_type not in known_pay_types:
            errors.append(
                FieldError(
                    f"payTypes[{i}].payType",
                    f"payment type {mapping.pay_type!r} is not an active payment type in the PMS",
                )
            )
    if settings.fee_adjustment_type is not None:
        if settings.amount_basis is not AmountBasis.GROSS:
            errors.append(
                FieldError(
                    "feeAdjustmentType",
                    "fees are written separately only with gross amounts; net amounts already "
                    "leave the fee out",
                )
            )
        if known_adjustment_types is None:
            errors.append(
                FieldError(
                    "feeAdjustmentType",
                    "connect the location's PMS first so adjustment types can be checked",
                )
            )
        elif settings.fee_adjustment_type not in known_adjustment_types:
            errors.append(
                FieldError(
                    "feeAdjustmentType",
                    f"adjustment type {settings.fee_adjustment_type!r} is not an active "
                    "adjustment type in the PMS",
                )
            )
    if capabilities is not None:
        insurance = settings.rule_for(PaymentSource.INSURANCE)
        if (
            insurance.enabled
            and insurance.mode is PostingMode.AUTOMATIC
            and not capabilities.insurance_payments_as_patient_payments
            and not capabilities.insurance_claim_payments
        ):
            errors.append(
                FieldError(
                    "sources.insurance",
                    "this PMS cannot take insurance payments through its API; "
                    "use manual mode for insurance",
                )
            )
        if settings.timing is PostingTiming.INSTANT and not capabilities.instant_timing:
            errors.append(FieldError("timing", "this PMS only accepts daily batches"))
    return errors


@dataclass(frozen=True)
class PaymentDecision:
    """What the settings decided for one payment, stored with the intent as its snapshot."""

    status: WritebackStatus
    amount_cents: int
    amount_basis: AmountBasis
    timing: PostingTiming
    mode: PostingMode
    pay_type: str | None
    settings_version: int
    # Set when the fee is written as its own adjustment (gross basis, fee above zero).
    fee_adjustment_type: str | None = None
    fee_adjustment_sign: str = "-"

    def snapshot(self) -> dict[str, Any]:
        return {
            "settings_version": self.settings_version,
            "amount_basis": self.amount_basis.value,
            "timing": self.timing.value,
            "mode": self.mode.value,
            "pay_type": self.pay_type,
            "fee_adjustment_type": self.fee_adjustment_type,
            "fee_adjustment_sign": self.fee_adjustment_sign,
        }


def decide_payment(
    settings: PaymentWritebackSettings,
    settings_version: int,
    source: PaymentSource,
    method: PaymentMethod,
    gross_cents: int,
    fee_cents: int,
) -> PaymentDecision:
    rule = settings.rule_for(source)
    amount = gross_cents - fee_cents if settings.amount_basis is AmountBasis.NET else gross_cents
    if not rule.enabled:
        status = WritebackStatus.SKIPPED
    elif rule.mode is PostingMode.MANUAL:
        status = WritebackStatus.AWAITING_MANUAL
    elif settings.timing is PostingTiming.DAILY:
        status = WritebackStatus.SCHEDULED
    else:
        status = WritebackStatus.QUEUED
    return PaymentDecision(
        status=status,
        amount_cents=amount,
        amount_basis=settings.amount_basis,
        timing=settings.timing,
        mode=rule.mode,
        pay_type=settings.pay_type_for(source, method),
        settings_version=settings_version,
        fee_adjustment_type=(
            settings.fee_adjustment_type
            if settings.amount_basis is AmountBasis.GROSS and fee_cents > 0
            else None
        ),
        fee_adjustment_sign=settings.fee_adjustment_sign,
    )


@dataclass(frozen=True)
class PaymentSettingsChanges:
    """What an admin asked to change; None leaves a field as it is."""

    sources: Mapping[PaymentSource, SourceRule] | None = None
    timing: PostingTiming | None = None
    daily_time: str | None = None
    amount_basis: AmountBasis | None = None
    pay_types: tuple[PayTypeMapping, ...] | None = None
    # An adjustment type id, or "" to stop writing fees separately.
    fee_adjustment_type: str | None = None

    def apply_to(self, settings: PaymentWritebackSettings) -> PaymentWritebackSettings:
        sources = dict(settings.sources)
        if self.sources:
            sources.update(self.sources)
        return PaymentWritebackSettings(
            sources=sources,
            timing=self.timing or settings.timing,
            daily_time=self.daily_time if self.daily_time is not None else settings.daily_time,
            amount_basis=self.amount_basis or settings.amount_basis,
            pay_types=self.pay_types if self.pay_types is not None else settings.pay_types,
            fee_adjustment_type=(
                settings.fee_adjustment_type
                if self.fee_adjustment_type is None
                else (self.fee_adjustment_type or None)
            ),
            fee_adjustment_sign=settings.fee_adjustment_sign,
        )
