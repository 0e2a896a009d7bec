from datetime import date
from decimal import Decimal

import pytest

from domain.enums import PaymentMethod, PaymentSource
from domain.errors import ValidationFailed
from domain.payment_submission import PaymentSubmission, validate_payment


def submission(**overrides: object) -> PaymentSubmission:
    values: dict[str, object] = {
        "payment_id": "pay_1",
        "location_id": "loc",
        "patient_ref": "42",
        "source": PaymentSource.CARD_TERMINAL,
        "method": PaymentMethod.CARD,
        "gross": Decimal("100.00"),
        "fee": Decimal("2.50"),
        "paid_on": date(2026, 11, 23),
    }
    values.update(overrides)
    return PaymentSubmission(**values)  # type: ignore[arg-type]


def fields_of(**overrides: object) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        validate_payment(submission(**overrides), numeric_patient_ids=True)
    return [e.field for e in info.value.errors]


def test_valid_payment_is_converted_to_cents() -> None:
    valid = validate_payment(submission(), numeric_patient_ids=True)
    assert (valid.gross_cents, valid.fee_cents) == (10_000, 250)


def test_zero_or_negative_gross_is_refused() -> None:
    assert fields_of(gross=Decimal("0")) == ["grossAmount"]
    assert fields_of(gross=Decimal("-5")) == ["grossAmount"]


def test_fee_above_gross_is_refused() -> None:
    assert fields_of(fee=Decimal("100.01")) == ["fee"]


def test_three_decimals_are_refused() -> None:
    assert fields_of(gross=Decimal("10.001")) == ["grossAmount"]


def test_non_numeric_patient_is_refused_for_numeric_pms() -> None:
    assert fields_of(patient_ref="abc") == ["patientRef"]


def test_every_problem_is_reported_at_once() -> None:
    assert fields_of(payment_id="", gross=Decimal("0"), fee=Decimal("-1")) == [
        "paymentId",
        "grossAmount",
        "fee",
    ]


def test_fingerprint_ignores_nothing_that_matters() -> None:
    a = validate_payment(submission(), numeric_patient_ids=True)
    b = validate_payment(submission(gross=Decimal("100.01")), numeric_patient_ids=True)
    c = validate_payment(submission(gross=Decimal("100.0")), numeric_patient_ids=True)
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == c.fingerprint
