"""Domain vocabularies exposed as GraphQL enums (values by name, e.g. CARD_TERMINAL)."""

from __future__ import annotations

import strawberry

from domain import communication_settings, communication_submission, enums

PmsSystem = strawberry.enum(enums.PmsSystem, name="PmsSystem")
Role = strawberry.enum(enums.Role, name="Role")
WritebackKind = strawberry.enum(enums.WritebackKind, name="WritebackKind")
PaymentSource = strawberry.enum(enums.PaymentSource, name="PaymentSource")
PaymentMethod = strawberry.enum(enums.PaymentMethod, name="PaymentMethod")
PostingMode = strawberry.enum(enums.PostingMode, name="PostingMode")
PostingTiming = strawberry.enum(enums.PostingTiming, name="PostingTiming")
AmountBasis = strawberry.enum(enums.AmountBasis, name="AmountBasis")
WritebackStatus = strawberry.enum(enums.WritebackStatus, name="WritebackStatus")
AttemptOutcome = strawberry.enum(enums.AttemptOutcome, name="AttemptOutcome")
CommunicationType = strawberry.enum(
    communication_settings.CommunicationType, name="CommunicationType"
)
DocumentType = strawberry.enum(communication_settings.DocumentType, name="DocumentType")
Channel = strawberry.enum(communication_submission.Channel, name="CommunicationChannel")
Direction = strawberry.enum(communication_submission.Direction, name="CommunicationDirection")
CallOutcome = strawberry.enum(communication_submission.CallOutcome, name="CallOutcome")
