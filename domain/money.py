"""Exact money: integer cents inside, Decimal at the edges, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


class MoneyError(ValueError):
    pass


def to_cents(amount: Decimal | str | int) -> int:
    """Convert an amount in dollars to integer cents, refusing more than two decimals."""
    if isinstance(amount, float):
        raise MoneyError("amounts must not be floats")
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except InvalidOperation as exc:
        raise MoneyError(f"not a number: {amount!r}") from exc
    if not value.is_finite():
        raise MoneyError("amount must be a finite number")
    try:
        exact = value == value.quantize(CENT)
    except InvalidOperation:
        raise MoneyError("amount is too large") from None
    if not exact:
        raise MoneyError("amount has more than two decimals")
    return int(value * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_cents(cents: int) -> str:
    return f"{from_cents(cents):.2f}"
