"""A payment as the platform submits it, and its validation (pure)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from domain.enums import PaymentMethod, PaymentSource
from domain.errors import FieldError, ValidationFailed
from domain.money import MoneyError, to_cents

PLATFORM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
_PATIENT_REF = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
# A PatNum as Open Dental writes it: no leading zeros, fits its bigint.
_PATNUM = re.compile(r"^[1-9][0-9]{0,17}$")
_CARD_BRAND = re.compile(r"^[A-Za-z][A-Za-z .\-]{0,19}$")
_LAST4 = re.compile(r"^[0-9]{4}$")
MAX_AMOUNT_CENTS = 10_000_000_00  # ten million dollars: anything above is a typo


@dataclass(frozen=True)
class PaymentSubmission:
    payment_id: str
    location_id: str
    patient_ref: str
    source: PaymentSource
    method: PaymentMethod
    gross: Decimal
    fee: Decimal
    paid_on: date
    check_number: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    # Open Dental payPlanNum, for payment-plan payments attached to the plan.
    payment_plan_ref: str | None = None
    # Open Dental ClaimNum, for insurance payments posted on the claim.
    claim_ref: str | None = None


@dataclass(frozen=True)
class ValidPayment:
    submission: PaymentSubmission
    gross_cents: int
    fee_cents: int

    @property
    def fingerprint(self) -> str:
        """Hash of the normalised content, to tell a replay from a different payment."""
        s = self.submission
        canonical = json.dumps(
            {
                "patient_ref": s.patient_ref,
                "source": s.source.value,
                "method": s.method.value,
                "gross_cents": self.gross_cents,
                "fee_cents": self.fee_cents,
                "paid_on": s.paid_on.isoformat(),
                "check_number": s.check_number or "",
                "card_brand": s.card_brand or "",
                "card_last4": s.card_last4 or "",
                "payment_plan_ref": s.payment_plan_ref or "",
                "claim_ref": s.claim_ref or "",
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def patient_ref_error(patient_ref: str, numeric_patient_ids: bool) -> FieldError | None:
    if _PATIENT_REF.match(patient_ref) and (not numeric_patient_ids or _PATNUM.match(patient_ref)):
        return None
    return FieldError(
        "patientRef",
        "must be the patient's PMS number (a positive whole number for this PMS)"
        if numeric_patient_ids
        else "must be the patient's PMS id",
    )


def validate_payment(
    s: PaymentSubmission, numeric_patient_ids: bool, today: date | None = None
) -> ValidPayment:
    errors: list[FieldError] = []
    if not PLATFORM_ID.match(s.payment_id):
        errors.append(
            FieldError("paymentId", "must be 1-128 letters, digits or . _ : - characters")
        )
    ref_error = patient_ref_error(s.patient_ref, numeric_patient_ids)
    if ref_error:
        errors.append(ref_error)
    gross_cents = fee_cents = 0
    try:
        gross_cents = to_cents(s.gross)
        if gross_cents <= 0:
            errors.append(FieldError("grossAmount", "must be positive"))
        elif gross_cents > MAX_AMOUNT_CENTS:
            errors.append(FieldError("grossAmount", "is larger than any single payment allowed"))
    except MoneyError as exc:
        errors.append(FieldError("grossAmount", str(exc)))
    try:
        fee_cents = to_cents(s.fee)
        if fee_cents < 0:
            errors.append(FieldError("fee", "must not be negative"))
        elif fee_cents > gross_cents > 0:
            errors.append(FieldError("fee", "must not be above the gross amount"))
    except MoneyError as exc:
        errors.append(FieldError("fee", str(exc)))
    if gross_cents > 0 and fee_cents == gross_cents:
        errors.append(FieldError("fee", "leaves nothing to post: the fee equals the gross amount"))
    if s.check_number is not None and (
        len(s.check_number) > 25 or not s.check_number.isprintable()
    ):
        errors.append(FieldError("checkNumber", "must be at most 25 printable characters"))
    if s.card_brand is not None and not _CARD_BRAND.match(s.card_brand):
        errors.append(FieldError("cardBrand", "must be a card brand name such as Visa"))
    if s.card_last4 is not None and not _LAST4.match(s.card_last4):
        errors.append(FieldError("cardLast4", "must be the last four digits of the card"))
    for field, ref in (("paymentPlanRef", s.payment_plan_ref), ("claimRef", s.claim_ref)):
        if ref is not None and not (
            _PATNUM.match(ref) if numeric_patient_ids else _PATIENT_REF.match(ref)
        ):
            errors.append(FieldError(field, "must be the PMS's number for it"))
    if s.payment_plan_ref is not None and s.source is not PaymentSource.PAYMENT_PLAN:
        errors.append(FieldError("paymentPlanRef", "is only for payment-plan payments"))
    if s.claim_ref is not None and s.source is not PaymentSource.INSURANCE:
        errors.append(FieldError("claimRef", "is only for insurance payments"))
    if today is not None and s.paid_on > today + timedelta(days=1):
        # A day of slack: the platform's date may already be tomorrow in another zone.
        errors.append(FieldError("paidOn", "must not be in the future"))
    if errors:
        raise ValidationFailed(errors)
    return ValidPayment(submission=s, gross_cents=gross_cents, fee_cents=fee_cents)
