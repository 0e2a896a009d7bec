"""Vocabulary shared by every layer, in the practice's language."""

from __future__ import annotations

from enum import StrEnum


class PmsSystem(StrEnum):
    OPEN_DENTAL = "open_dental"
    DENTRIX = "dentrix"
    DENTRIX_ASCEND = "dentrix_ascend"
    EAGLESOFT = "eaglesoft"
    CURVE = "curve"
    CLOUD9 = "cloud9"
    DENTICON = "denticon"
    WINOMS = "winoms"
    FUSE = "fuse"
    DSN = "dsn"
    DENTIMAX = "dentimax"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    PARTNER = "partner"


class WritebackKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    # SMS, email, calls and notes: one kind, the communication type is in the payload.
    COMMUNICATION = "communication"
    DOCUMENT = "document"


class PaymentSource(StrEnum):
    CARD_TERMINAL = "card_terminal"
    PAYMENT_PLAN = "payment_plan"
    INSURANCE = "insurance"
    MEMBERSHIP = "membership"
    COLLECTION = "collection"


class PaymentMethod(StrEnum):
    CARD = "card"
    ACH = "ach"
    CASH = "cash"
    CHECK = "check"
    OTHER = "other"


class PostingMode(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class PostingTiming(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"


class AmountBasis(StrEnum):
    NET = "net"
    GROSS = "gross"


class WritebackStatus(StrEnum):
    SKIPPED = "skipped"
    AWAITING_MANUAL = "awaiting_manual"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    POSTING = "posting"
    RETRYING = "retrying"
    # The PMS may have applied the write; it is looked up by marker before any re-post.
    UNKNOWN = "unknown"
    # Accepted by an asynchronous path (e.g. NexHealth 202), waiting for its confirmation.
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    SUCCEEDED = "succeeded"
    # Some of its PMS writes landed and another failed for good: needs a person.
    PARTIAL = "partial"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FOUND_EXISTING = "found_existing"
    TRANSIENT_ERROR = "transient_error"
    # Held back by the connection's shared write throttle before anything was sent.
    THROTTLED = "throttled"
    PERMANENT_ERROR = "permanent_error"
    OUTCOME_UNKNOWN = "outcome_unknown"
