"""Ports the domain depends on. Adapters live in connectors/ and app/adapters/."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from domain.enums import PmsSystem

# ---------------------------------------------------------------------------
# Connector errors. Every connector maps its vendor's failures onto these three.


class ConnectorError(Exception):
    """Base of connector failures. `message` is safe to show staff and to log (no PHI)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientError(ConnectorError):
    """Nothing was applied (request refused before processing, throttled, unreachable)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(TransientError):
    """The connection's throttle (ours, or the PMS answering 429) has no slot now; nothing
    was applied. Waiting for it does not spend the retry budget."""


class PermanentError(ConnectorError):
    """The PMS refused the request; retrying the same request cannot succeed."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class CredentialsError(PermanentError):
    """Keys are wrong, disabled or lack the permission for this call."""


class OutcomeUnknownError(ConnectorError):
    """The request was sent and may have been applied (timeout after sending, 5xx)."""


# ---------------------------------------------------------------------------
# Connector data


@dataclass(frozen=True)
class PmsCredentials:
    system: PmsSystem
    base_url: str
    developer_key: str = field(repr=False)
    customer_key: str = field(repr=False)
    # Stable id used to share the write throttle across all workers.
    connection_key: str
    write_interval_seconds: float = 1.0


@dataclass(frozen=True)
class Capabilities:
    patient_payments: bool = False
    insurance_payments_as_patient_payments: bool = False
    # Insurance money posted on the claim it pays (Open Dental: claim payments).
    insurance_claim_payments: bool = False
    fee_adjustments: bool = False
    refunds: bool = False
    payment_plans: bool = False
    instant_timing: bool = True
    numeric_patient_ids: bool = False


@dataclass(frozen=True)
class PaymentPosting:
    """One patient payment to write. `marker` must be findable later by find_payment."""

    patient_ref: str
    amount: Decimal
    pay_date: date
    note: str
    marker: str
    pay_type: str | None = None
    check_number: str | None = None
    # Attach to this PMS payment plan (Open Dental payPlanNum) instead of the ledger at large.
    payment_plan_ref: str | None = None


@dataclass(frozen=True)
class AdjustmentPosting:
    """A ledger adjustment, e.g. a card fee written separately from a gross payment.

    `amount` is signed as the PMS expects for `adj_type` (negative for a "-" type).
    """

    patient_ref: str
    amount: Decimal
    adj_date: date
    adj_type: str
    note: str
    marker: str


@dataclass(frozen=True)
class RefundPosting:
    """Refund of an earlier posted payment (Open Dental: a new negative payment)."""

    patient_ref: str
    original_record_id: str
    marker: str
    note: str


@dataclass(frozen=True)
class InsurancePaymentPosting:
    """An insurance payment on a claim (Open Dental: the claim-payment path)."""

    patient_ref: str
    claim_ref: str
    amount: Decimal
    pay_date: date
    note: str
    marker: str
    pay_type: str | None = None
    check_number: str | None = None


@dataclass(frozen=True)
class CommlogPosting:
    """A communication-log entry (Open Dental commlog). `note` ends with our reference line.

    `channel`/`direction` are the domain's Channel/Direction values; `occurred_at` is the
    office's local wall-clock time, as the PMS keeps it.
    """

    patient_ref: str
    occurred_at: datetime
    channel: str
    direction: str
    note_type: str | None
    note: str
    marker: str


@dataclass(frozen=True)
class PatientNoteAppend:
    """Text appended to the patient's own note, keeping what is there."""

    patient_ref: str
    text: str
    marker: str


@dataclass(frozen=True)
class TaskNotePosting:
    task_ref: str
    note: str
    marker: str


@dataclass(frozen=True)
class DocumentUpload:
    patient_ref: str
    category: str
    content: bytes = field(repr=False)
    extension: str
    description: str
    created_at: datetime
    marker: str
    provider_ref: str | None = None


@dataclass(frozen=True)
class PmsDocument:
    record_id: str
    description: str
    category: str
    created_at: datetime | None
    file_name: str
    image_type: str


@dataclass(frozen=True)
class PostedRecord:
    record_id: str
    amount: Decimal | None = None
    pay_date: date | None = None


@dataclass(frozen=True)
class PmsOption:
    """An entry of one of the PMS's own lists (payment types, note types, providers...)."""

    id: str
    name: str
    hidden: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Sync data (PMS -> platform). Times are the office's wall clock (naive), as the PMS keeps
# them; the sync service places them in the location's time zone.


@dataclass(frozen=True)
class PmsPatient:
    id: str
    last_name: str
    first_name: str
    preferred_name: str
    birthdate: date | None
    status: str
    provider_id: str | None
    clinic_id: str | None
    changed_at: str | None  # the PMS's own change stamp, as it sent it


@dataclass(frozen=True)
class PmsAppointment:
    id: str
    patient_id: str
    status: str  # Open Dental AptStatus names: Scheduled, Complete, Broken, UnschedList...
    starts_at: datetime
    duration_minutes: int
    confirmation_id: str | None
    confirmation_label: str | None
    operatory_id: str | None
    provider_id: str | None
    provider_abbr: str | None
    clinic_id: str | None
    arrived_at: datetime | None
    seated_at: datetime | None
    dismissed_at: datetime | None
    changed_at: str | None


@dataclass(frozen=True)
class ChangedPatients:
    rows: list[PmsPatient]
    # The PMS's clock when the first page was answered: the next cursor.
    server_time: datetime | None


@dataclass(frozen=True)
class ChangedAppointments:
    rows: list[PmsAppointment]
    server_time: datetime | None


@dataclass(frozen=True)
class PatientPhoto:
    document_id: str
    content_type: str
    content: bytes = field(repr=False)
    taken_at: datetime | None


class PmsConnector(Protocol):
    """What the domain needs from a practice-management system."""

    capabilities: Capabilities

    async def post_payment(self, posting: PaymentPosting) -> PostedRecord:
        """Write a patient payment.

        :raises TransientError: nothing was written; retry later.
        :raises PermanentError: refused; carries a hint for staff.
        :raises OutcomeUnknownError: may have been written; call find_payment before re-posting.
        """
        ...

    async def find_payment(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None:
        """Look up a payment posted earlier by the marker in its note."""
        ...

    async def post_adjustment(self, posting: AdjustmentPosting) -> PostedRecord:
        """Same error contract as post_payment."""
        ...

    async def find_adjustment(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None: ...

    async def get_payment(self, patient_ref: str, record_id: str) -> PostedRecord | None:
        """A posted payment by its PMS id (amount included), None if it does not exist."""
        ...

    async def refund_payment(self, posting: RefundPosting) -> PostedRecord:
        """Same error contract as post_payment; the returned amount is the refund's (negative)."""
        ...

    async def find_refund(
        self, posting: RefundPosting, entered_since: date
    ) -> PostedRecord | None: ...

    async def post_insurance_payment(self, posting: InsurancePaymentPosting) -> PostedRecord:
        """:raises PermanentError: the claim cannot take this payment (with a hint)."""
        ...

    async def find_insurance_payment(
        self, posting: InsurancePaymentPosting, entered_since: date
    ) -> PostedRecord | None: ...

    async def post_commlog(self, posting: CommlogPosting) -> PostedRecord:
        """Same error contract as post_payment."""
        ...

    async def find_commlog(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None: ...

    async def append_patient_note(self, posting: PatientNoteAppend) -> PostedRecord:
        """Read the patient's note and write it back with `text` appended, unless the
        marker is already in it (then it is left as it is)."""
        ...

    async def find_patient_note(self, posting: PatientNoteAppend) -> PostedRecord | None: ...

    async def post_task_note(self, posting: TaskNotePosting) -> PostedRecord: ...

    async def find_task_note(self, posting: TaskNotePosting) -> PostedRecord | None: ...

    async def upload_document(self, upload: DocumentUpload) -> PostedRecord: ...

    async def find_document(self, upload: DocumentUpload) -> PostedRecord | None: ...

    async def list_documents(self, patient_ref: str, category: str) -> list[PmsDocument]:
        """The patient's documents filed in `category`, newest first."""
        ...

    async def list_payment_types(self) -> list[PmsOption]: ...

    async def list_adjustment_types(self) -> list[PmsOption]:
        """`extra["sign"]` is "+" or "-": the sign an adjustment of the type must carry."""
        ...

    async def list_providers(self) -> list[PmsOption]: ...

    async def list_note_types(self) -> list[PmsOption]:
        """Types communication-log entries and notes can be written as (Open Dental: commlog
        types); `extra["usage"]` is the PMS's usage code where it has one."""
        ...

    async def list_document_categories(self) -> list[PmsOption]:
        """Where documents are filed (Open Dental: image categories); `extra["usage"]` holds
        the PMS's flags (e.g. "P" for patient pictures)."""
        ...

    async def patient_exists(self, patient_ref: str) -> bool: ...

    async def patients_changed_since(self, since: datetime | None) -> ChangedPatients:
        """Every patient changed at or after `since` (all when None), all pages read.

        :raises TransientError: unreachable or throttled; nothing to store.
        """
        ...

    async def appointments_changed_since(
        self, since: datetime | None, first_day: date | None, last_day: date | None
    ) -> ChangedAppointments:
        """Appointments changed at or after `since` (any time when None), limited to those
        scheduled from `first_day` to `last_day` when given, all pages read."""
        ...

    async def patient_photo(self, patient_ref: str) -> PatientPhoto | None:
        """The patient's current profile picture, None when there is none to download."""
        ...


class ConnectorFactory(Protocol):
    def __call__(self, credentials: PmsCredentials) -> PmsConnector: ...


# ---------------------------------------------------------------------------
# Infrastructure ports


class RateLimiter(Protocol):
    async def reserve(self, key: str, interval_seconds: float, max_wait_seconds: float) -> float:
        """Reserve the next call slot of `key`; return seconds to wait before using it.

        :raises Throttled: (with retry_after) when the slot is further away than
            max_wait_seconds; nothing is reserved then.
        """
        ...


class ConnectionGate(Protocol):
    """Caps how many postings may wait on one practice's PMS at once, across all workers,
    so an unreachable practice cannot take every worker slot."""

    def hold(self, key: str, limit: int | None = None) -> AbstractAsyncContextManager[None]:
        """At most `limit` holders (default: the practice's share) at once for `key`.

        :raises Throttled: when the key already has its holders.
        """
        ...


class JobQueue(Protocol):
    async def enqueue(
        self, function: str, *args: str, job_id: str, defer_seconds: float = 0.0
    ) -> None:
        """Enqueue unless a job with `job_id` is already waiting or running."""
        ...

    async def enqueue_posting(
        self, kind: str, intent_id: str, defer_seconds: float = 0.0
    ) -> None: ...


class EventPublisher(Protocol):
    async def publish(self, channel: str, payload: Mapping[str, Any]) -> None: ...


class EventSubscriber(Protocol):
    def subscribe(self, channel: str) -> AsyncGenerator[dict[str, Any], None]: ...


@dataclass(frozen=True)
class WebhookAnswer:
    """What a webhook receiver answered: a status code, or why there was none."""

    status_code: int | None
    error: str | None = None


class WebhookSender(Protocol):
    async def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout_seconds: float
    ) -> WebhookAnswer:
        """POST `body`; never raises for network failures (they come back as `error`)."""
        ...


class SecretBox(Protocol):
    """Encrypts secrets at rest: PMS keys, webhook signing secrets."""

    def encrypt(self, plaintext: str) -> bytes: ...

    def decrypt(self, token: bytes) -> str: ...


class ConnectorRegistry(Protocol):
    def supports(self, system: PmsSystem) -> bool: ...

    def capabilities(self, system: PmsSystem) -> Capabilities | None: ...

    def connector_for(self, credentials: PmsCredentials) -> PmsConnector: ...


class ShortCache(Protocol):
    """A small JSON cache with expiry (Redis), for answers the PMS is slow or throttled on."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: Mapping[str, Any], ttl_seconds: float) -> None: ...


class SyncSchedule(Protocol):
    """When each (location, resource) is polled next, shared by every worker (Redis)."""

    async def plan(self, member: str, interval_seconds: float, phase_ms: int) -> None:
        """Poll `member` every `interval_seconds` on its grid from its next grid point; a
        changed interval takes effect at the next tick."""
        ...

    async def remove(self, member: str) -> None: ...

    async def defer(self, member: str, seconds: float) -> None:
        """Nothing before `seconds` from now (an unreachable PMS backing off)."""
        ...

    async def planned(self) -> dict[str, float]:
        """Every planned member with its interval in seconds."""
        ...
