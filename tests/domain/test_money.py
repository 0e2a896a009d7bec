from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import MoneyError, format_cents, from_cents, to_cents

cents = st.integers(min_value=0, max_value=10**11)


@given(cents)
def test_cents_round_trip_through_decimal_exactly(value: int) -> None:
    assert to_cents(from_cents(value)) == value


@given(cents, cents)
def test_net_plus_fee_equals_gross(gross: int, fee: int) -> None:
    fee = min(fee, gross)
    net = gross - fee
    assert from_cents(net) + from_cents(fee) == from_cents(gross)


def test_more_than_two_decimals_is_refused() -> None:
    with pytest.raises(MoneyError):
        to_cents(Decimal("1.005"))


def test_trailing_zero_decimals_are_accepted() -> None:
    assert to_cents(Decimal("1.500")) == 150


def test_floats_are_refused() -> None:
    with pytest.raises(MoneyError):
        to_cents(1.1)  # type: ignore[arg-type]


def test_non_finite_amounts_are_refused() -> None:
    with pytest.raises(MoneyError):
        to_cents(Decimal("NaN"))


def test_format_has_two_decimals() -> None:
    assert format_cents(5) == "0.05"
