from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from domain import enums
from domain.payment_settings import PayTypeMapping as PayTypeMappingModel
from domain.payment_settings import SourceRule as SourceRuleModel
from domain.persistence.models import SettingsChange as SettingsChangeModel
from domain.services.payment_settings import VersionedSettings


@strawberry.type
class PaymentSourceRule:
    source: enums.PaymentSource
    enabled: bool
    mode: enums.PostingMode


@strawberry.type
class PayTypeMapping:
    """The PMS payment type (its own id, e.g. an Open Dental DefNum) for a source/method."""

    pay_type: str
    source: enums.PaymentSource | None
    method: enums.PaymentMethod | None


@strawberry.type
class PaymentWritebackSettings:
    location_id: strawberry.ID
    version: int
    sources: list[PaymentSourceRule]
    timing: enums.PostingTiming
    daily_time: str = strawberry.field(description="Local time of day (HH:MM) of the daily run")
    amount_basis: enums.AmountBasis
    pay_types: list[PayTypeMapping]
    fee_adjustment_type: str | None = strawberry.field(
        description="With gross amounts: the PMS adjustment type each fee is also written as"
    )

    @classmethod
    def from_model(cls, location_id: str, v: VersionedSettings) -> PaymentWritebackSettings:
        s = v.settings
        return cls(
            location_id=strawberry.ID(location_id),
            version=v.version,
            sources=[
                PaymentSourceRule(
                    source=src, enabled=s.rule_for(src).enabled, mode=s.rule_for(src).mode
                )
                for src in enums.PaymentSource
            ],
            timing=s.timing,
            daily_time=s.daily_time,
            amount_basis=s.amount_basis,
            pay_types=[
                PayTypeMapping(pay_type=m.pay_type, source=m.source, method=m.method)
                for m in s.pay_types
            ],
            fee_adjustment_type=s.fee_adjustment_type,
        )


@strawberry.input
class PaymentSourceRuleInput:
    source: enums.PaymentSource
    enabled: bool
    mode: enums.PostingMode = enums.PostingMode.AUTOMATIC

    def to_model(self) -> SourceRuleModel:
        return SourceRuleModel(enabled=self.enabled, mode=self.mode)


@strawberry.input
class PayTypeMappingInput:
    pay_type: str
    source: enums.PaymentSource | None = None
    method: enums.PaymentMethod | None = None

    def to_model(self) -> PayTypeMappingModel:
        return PayTypeMappingModel(
            pay_type=self.pay_type.strip(), source=self.source, method=self.method
        )


@strawberry.input
class PaymentWritebackSettingsInput:
    """Fields left out keep their current value. payTypes, when given, replaces the list."""

    location_id: strawberry.ID
    sources: list[PaymentSourceRuleInput] | None = None
    timing: enums.PostingTiming | None = None
    daily_time: str | None = None
    amount_basis: enums.AmountBasis | None = None
    pay_types: list[PayTypeMappingInput] | None = None
    fee_adjustment_type: str | None = strawberry.field(
        default=None, description='An adjustment type id, or "" to stop writing fees separately'
    )


@strawberry.type
class SettingsChange:
    version: int
    changed_at: datetime
    changed_by_key_id: strawberry.ID | None
    before: JSON | None
    after: JSON

    @classmethod
    def from_model(cls, m: SettingsChangeModel) -> SettingsChange:
        return cls(
            version=m.version,
            changed_at=m.changed_at,
            changed_by_key_id=strawberry.ID(m.actor_key_id) if m.actor_key_id else None,
            before=cast(JSON, m.before),
            after=cast(JSON, m.after),
        )
