"""Open Dental field names and formats: our domain objects to and from its rows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from domain.ports import PaymentPosting, PermanentError, PmsOption, PostedRecord

PAYMENT_TYPES_CATEGORY: Final = 10  # definition category PaymentTypes (enum DefCat)
CHECK_NUM_MAX: Final = 25  # payment.CheckNum is varchar(25)
DATE_FORMAT: Final = "%Y-%m-%d"

_PAT_NUM_RE: Final = re.compile(r"^[1-9]\d{0,18}$")

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
}


def parse_pat_num(patient_ref: str) -> int:
    """Open Dental patients are keyed by PatNum, a positive integer."""
    if not _PAT_NUM_RE.match(patient_ref.strip()):
        raise PermanentError("The patient reference is not an Open Dental PatNum.", HINT_PATIENT)
    return int(patient_ref.strip())


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
    return body


def from_opendental_payment(row: Mapping[str, Any]) -> PostedRecord:
    return PostedRecord(
        record_id=str(row["PayNum"]),
        amount=_decimal(row.get("PayAmt")),
        pay_date=_date(row.get("PayDate")),
    )


def payment_note(row: Mapping[str, Any]) -> str:
    note = row.get("PayNote")
    return note if isinstance(note, str) else ""


def from_opendental_definition(row: Mapping[str, Any]) -> PmsOption:
    return PmsOption(
        id=str(row["DefNum"]),
        name=str(row.get("ItemName", "")),
        hidden=od_bool(row.get("isHidden")),
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
