"""Open Dental field names and formats: our domain objects to and from its rows."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from domain.money import MoneyError, from_cents, to_cents
from domain.ports import (
    AdjustmentPosting,
    InsurancePaymentPosting,
    PaymentPosting,
    PermanentError,
    PmsOption,
    PostedRecord,
)

# Definition categories (enum DefCat).
ADJ_TYPES_CATEGORY: Final = 1
PAYMENT_TYPES_CATEGORY: Final = 10
IMAGE_CATEGORIES_CATEGORY: Final = 18  # document categories; ItemValue holds usage flags
COMMLOG_TYPES_CATEGORY: Final = 27  # note types; ItemValue holds a usage code (TEXT, APPT...)
INSURANCE_PAYMENT_TYPES_CATEGORY: Final = 32
# The only adjustment-type ItemValues the API posts with; others (e.g. discount-plan types)
# cannot be used through Adjustments POST.
ADJ_SIGNS: Final = frozenset({"+", "-"})
CHECK_NUM_MAX: Final = 25  # payment.CheckNum and claimpayment.CheckNum are varchar(25)
CLAIM_PAYMENT_NOTE_MAX: Final = 255  # claimpayment.Note is varchar(255)
DATE_FORMAT: Final = "%Y-%m-%d"
DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"

# Claimproc statuses on the claim-payment path (claimproc.Status is sent as text).
NOT_RECEIVED: Final = "NotReceived"
RECEIVED: Final = "Received"
SUPPLEMENTAL: Final = "Supplemental"

_KEY_RE: Final = re.compile(r"^[1-9]\d{0,18}$")
# What may surround a marker in a note: anything but a letter or digit before it ("[WB:" in
# the domain's tags), and anything but a letter, digit or ":" after it, so that "abc" is not
# found inside "xabc" or in a fee adjustment's "[WB:abc:fee]".
_NOT_BEFORE_MARKER: Final = re.compile(r"[0-9A-Za-z]")
_NOT_AFTER_MARKER: Final = re.compile(r"[0-9A-Za-z:]")

HINT_PATIENT: Final = "Check the patient's PatNum in Open Dental (Patient > Patient Information)."
HINT_PAYMENT_TYPE: Final = (
    "Choose an existing, visible payment type in the writeback settings "
    "(Open Dental: Setup > Definitions > Payment Types)."
)
HINT_PAY_DATE: Final = (
    "Open Dental refuses future-dated payments unless the office allows them; "
    "post it on or after its date."
)
HINT_CHECK_NUM: Final = "Shorten the check number to 25 characters or fewer."
HINT_AMOUNT: Final = "Check the payment amount; Open Dental refuses zero amounts."
HINT_PROVIDER: Final = "Choose an active provider that exists in Open Dental."
HINT_CLINIC: Final = "Check the clinic set for this patient in Open Dental."
HINT_PAYMENT_PLAN: Final = (
    "Check the payment plan in Open Dental; it may be closed, or not be one of this "
    "patient's (dynamic) payment plans."
)
HINT_ADJ_TYPE: Final = (
    "Choose an existing, visible adjustment type in the writeback settings "
    "(Open Dental: Setup > Definitions > Adj Types)."
)
HINT_ADJ_SIGN: Final = (
    "The amount's sign must match the adjustment type's sign in Open Dental (Setup > "
    'Definitions > Adj Types: "+" types take positive amounts, "-" types negative); '
    "check the adjustment type in the writeback settings."
)
HINT_ADJ_DATE: Final = "Open Dental refuses future-dated adjustments; post it on or after its date."
HINT_REFUND: Final = (
    "Refund this payment by hand in Open Dental. Open Dental's API cannot refund a payment "
    "that is attached to a payment plan, has negative splits or was already refunded."
)
HINT_CLAIM: Final = "Open the claim in Open Dental; post this insurance payment by hand."

# Which staff action fixes a 400 that names a field. Open Dental's validation messages
# name the field ("PayType is invalid."), so the field decides the hint.
FIELD_HINTS: Final[Mapping[str, str]] = {
    "PatNum": HINT_PATIENT,
    "PayType": HINT_PAYMENT_TYPE,
    "PayDate": HINT_PAY_DATE,
    "CheckNum": HINT_CHECK_NUM,
    "PayAmt": HINT_AMOUNT,
    "ProvNum": HINT_PROVIDER,
    "ClinicNum": HINT_CLINIC,
    "BankBranch": "Shorten the bank branch to 25 characters or fewer.",
    "PayNote": "Check the payment note template in the writeback settings.",
    "DateEntry": "Check the date used to look up earlier payments.",
    "Category": "Contact support: the payment type lookup was refused.",
    "payPlanNum": HINT_PAYMENT_PLAN,
    "AdjType": HINT_ADJ_TYPE,
    "AdjAmt": HINT_ADJ_SIGN,
    "AdjDate": HINT_ADJ_DATE,
    "PayNum": HINT_REFUND,
    "claimNum": HINT_CLAIM,
    "CheckAmt": HINT_CLAIM,
    "InsPayAmt": HINT_CLAIM,
    "ClaimStatus": HINT_CLAIM,
}


def parse_pat_num(patient_ref: str) -> int:
    """Open Dental patients are keyed by PatNum, a positive integer."""
    return parse_key(
        patient_ref, "The patient reference is not an Open Dental PatNum.", HINT_PATIENT
    )


def parse_key(ref: str, message: str, hint: str) -> int:
    """An Open Dental primary key (PatNum, PayNum, ClaimNum...): a positive integer."""
    if not _KEY_RE.match(ref.strip()):
        raise PermanentError(message, hint)
    return int(ref.strip())


def is_key(ref: str) -> bool:
    return _KEY_RE.match(ref.strip()) is not None


def has_marker(note: str, marker: str) -> bool:
    """Whether `note` carries `marker` as a whole marker, not as part of a longer one.

    A fee adjustment's "[WB:<m>:fee]" must not count as the payment's "<m>".
    """
    if not marker:
        return False
    start = note.find(marker)
    while start >= 0:
        end = start + len(marker)
        before = note[start - 1 : start]
        after = note[end : end + 1]
        if not _NOT_BEFORE_MARKER.fullmatch(before) and not _NOT_AFTER_MARKER.fullmatch(after):
            return True
        start = note.find(marker, start + 1)
    return False


def to_opendental_payment(posting: PaymentPosting) -> dict[str, Any]:
    """The POST /payments body. PayAmt stays a Decimal; the client writes it digit for digit."""
    body: dict[str, Any] = {
        "PayAmt": posting.amount,
        "PatNum": parse_pat_num(posting.patient_ref),
        "PayDate": posting.pay_date.strftime(DATE_FORMAT),
        "PayNote": posting.note,
    }
    if posting.pay_type is not None:
        if not posting.pay_type.strip().isdigit():
            raise PermanentError(
                "The payment type is not an Open Dental DefNum.", HINT_PAYMENT_TYPE
            )
        body["PayType"] = int(posting.pay_type)
    if posting.check_number:
        # Refused here rather than by Open Dental, so nothing is sent for a request that must fail.
        if len(posting.check_number) > CHECK_NUM_MAX:
            raise PermanentError(
                "The check number is longer than Open Dental allows.", HINT_CHECK_NUM
            )
        body["CheckNum"] = posting.check_number
    if posting.payment_plan_ref is not None:
        body["payPlanNum"] = parse_key(
            posting.payment_plan_ref,
            "The payment plan reference is not an Open Dental PayPlanNum.",
            HINT_PAYMENT_PLAN,
        )
    return body


def to_opendental_adjustment(posting: AdjustmentPosting) -> dict[str, Any]:
    """The POST /adjustments body. AdjAmt keeps the sign the posting gives: Open Dental
    checks it against the type's "+"/"-" and refuses a mismatch."""
    if not posting.amount.is_finite() or posting.amount == 0:
        raise PermanentError("The adjustment amount must be a non-zero number.", HINT_ADJ_SIGN)
    return {
        "PatNum": parse_pat_num(posting.patient_ref),
        "AdjType": parse_key(
            posting.adj_type, "The adjustment type is not an Open Dental DefNum.", HINT_ADJ_TYPE
        ),
        "AdjAmt": posting.amount,
        "AdjDate": posting.adj_date.strftime(DATE_FORMAT),
        "AdjNote": posting.note,
    }


def to_opendental_claimpayment(posting: InsurancePaymentPosting, claim_num: int) -> dict[str, Any]:
    """The POST /claimpayments body. Refused here, before any of the claim's writes, when a
    field could only be refused by Open Dental after the claimprocs were already received."""
    if len(posting.note) > CLAIM_PAYMENT_NOTE_MAX:
        raise PermanentError(
            "The insurance payment note is longer than Open Dental keeps (255 characters).",
            "Shorten the payment note template in the writeback settings.",
        )
    body: dict[str, Any] = {
        "claimNum": claim_num,
        "CheckAmt": posting.amount,
        # CheckDate is when the check was entered; the payment's date keeps insurance income
        # on the day it was received, like PayDate does for patient payments.
        "CheckDate": posting.pay_date.strftime(DATE_FORMAT),
        "Note": posting.note,
    }
    if posting.pay_type is not None:
        body["PayType"] = parse_key(
            posting.pay_type,
            "The insurance payment type is not an Open Dental DefNum.",
            "Choose an existing, visible insurance payment type in the writeback settings "
            "(Open Dental: Setup > Definitions > Insurance Payment Types).",
        )
    if posting.check_number:
        if len(posting.check_number) > CHECK_NUM_MAX:
            raise PermanentError(
                "The check number is longer than Open Dental allows.", HINT_CHECK_NUM
            )
        body["CheckNum"] = posting.check_number
    return body


def payment_cents(amount: Decimal) -> int:
    """A positive amount in whole cents, for splitting it exactly over claimprocs."""
    try:
        cents = to_cents(amount)
    except MoneyError:
        raise PermanentError(
            "The insurance payment amount is not a whole number of cents.", HINT_CLAIM
        ) from None
    if cents <= 0:
        raise PermanentError(
            "Only positive insurance payments can be posted on a claim.", HINT_CLAIM
        )
    return cents


def distribute_cents(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` cents in proportion to `weights` (largest remainder), exactly.

    Each share is the floor of its exact proportion, and the cents left over go to the
    largest remainders (earlier ones first on a tie), so the shares always add up to
    `total` and none is more than a cent from its exact proportion. Equal weights are used
    when all weights are zero.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must not be negative")
    if not weights:
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    weight_sum = sum(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:leftover]:
        shares[i] += 1
    return shares


def claimproc_shares(procs: Sequence[Mapping[str, Any]], cents: int) -> list[tuple[int, int]]:
    """(ClaimProcNum, InsPayAmt in cents) for each claimproc this payment receives.

    The payment covers the claim's claimprocs that are not on a check yet, in ClaimProcNum
    order. It is split in proportion to their insurance estimates (InsPayEst) while it does
    not exceed them (each procedure then gets at most its estimate), else in proportion to
    the fees billed. More than the fees billed is refused: insurance does not pay more than
    was billed, so the payment is most likely for another claim.

    Deterministic in the claim's estimates and fees, which receiving does not change (an
    assumption about Open Dental's recalculation), so a retry recomputes the same shares and
    can tell its earlier writes from someone else's; were they to change, the retry would be
    refused as "received with other amounts", never doubled.
    :raises PermanentError: already paid, or not payable this way (staff finish by hand).
    """
    unattached = [p for p in procs if key_of(p.get("ClaimPaymentNum")) == 0]
    statuses = {str(p.get("Status")) for p in unattached}
    targets = sorted(
        (p for p in unattached if p.get("Status") in (NOT_RECEIVED, RECEIVED)),
        key=lambda p: key_of(p.get("ClaimProcNum")),
    )
    if not targets:
        raise PermanentError(
            "The claim has no procedures waiting for an insurance payment; it may already be "
            "paid in Open Dental.",
            HINT_CLAIM,
        )
    if statuses - {NOT_RECEIVED, RECEIVED}:
        # e.g. a Supplemental claimproc someone started: its InsPayAmt would have to be on
        # this check too, and it is not ours to finalize.
        raise PermanentError(
            "The claim has an unfinished supplemental insurance payment.", HINT_CLAIM
        )
    fees = [_cents_of(p.get("FeeBilled")) for p in targets]
    estimates = [_cents_of(p.get("InsPayEst")) for p in targets]
    if cents > sum(fees):
        raise PermanentError(
            "The insurance payment is more than the fees billed on the claim.", HINT_CLAIM
        )
    weights = estimates if cents <= sum(estimates) else fees
    shares = distribute_cents(cents, weights)
    return [
        (key_of(p.get("ClaimProcNum")), share) for p, share in zip(targets, shares, strict=True)
    ]


def cents_of(value: Any) -> int | None:
    """An Open Dental money value as cents, None if it is not a number.

    Open Dental keeps money in double columns, so a value may carry binary noise
    (88.00000000000001); rounding to the cent is the amount the office sees.
    """
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return None
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _cents_of(value: Any) -> int:
    # Negative estimates or fees carry no weight.
    return max(cents_of(value) or 0, 0)


def key_of(value: Any) -> int:
    """An integer key column; 0 (Open Dental's "none") when absent or malformed."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return 0


def money(cents: int) -> Decimal:
    return from_cents(cents)


def from_opendental_payment(row: Mapping[str, Any]) -> PostedRecord:
    return PostedRecord(
        record_id=str(row["PayNum"]),
        amount=_decimal(row.get("PayAmt")),
        pay_date=_date(row.get("PayDate")),
    )


def payment_note(row: Mapping[str, Any]) -> str:
    return text_of(row, "PayNote")


def text_of(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return value if isinstance(value, str) else ""


def amount_of(row: Mapping[str, Any], column: str) -> Decimal | None:
    return _decimal(row.get(column))


def date_of(row: Mapping[str, Any], column: str) -> date | None:
    return _date(row.get(column))


def from_opendental_adjustment(row: Mapping[str, Any]) -> PostedRecord:
    return PostedRecord(
        record_id=str(row["AdjNum"]),
        amount=_decimal(row.get("AdjAmt")),
        pay_date=_date(row.get("AdjDate")),
    )


def from_opendental_claimpayment(row: Mapping[str, Any]) -> PostedRecord:
    return PostedRecord(
        record_id=str(row["ClaimPaymentNum"]),
        amount=_decimal(row.get("CheckAmt")),
        pay_date=_date(row.get("CheckDate")),
    )


def from_opendental_adjustment_type(row: Mapping[str, Any]) -> PmsOption:
    option = from_opendental_definition(row)
    return PmsOption(
        id=option.id, name=option.name, hidden=option.hidden, extra={"sign": row["ItemValue"]}
    )


def from_opendental_definition(row: Mapping[str, Any]) -> PmsOption:
    return PmsOption(
        id=str(row["DefNum"]),
        name=str(row.get("ItemName", "")),
        hidden=od_bool(row.get("isHidden")),
        extra={"usage": str(row.get("ItemValue", ""))},
    )


def from_opendental_provider(row: Mapping[str, Any]) -> PmsOption:
    abbr = str(row.get("Abbr", ""))
    full_name = " ".join(str(row[k]) for k in ("FName", "LName") if row.get(k))
    return PmsOption(
        id=str(row["ProvNum"]),
        name=f"{abbr} - {full_name}" if full_name else abbr,
        hidden=od_bool(row.get("IsHidden")) or row.get("ProvStatus") == "Deleted",
        extra={"abbr": abbr, "hygienist": od_bool(row.get("IsSecondary"))},
    )


def od_bool(value: Any) -> bool:
    """Open Dental writes booleans as the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool | float):
        # float would already have lost digits; the client parses with parse_float=Decimal.
        return None
    try:
        return Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:10], DATE_FORMAT).date()
    except ValueError:
        return None
