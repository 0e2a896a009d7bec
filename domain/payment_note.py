"""The reference we leave in the PMS payment note.

Format (one line, no names):
``[WB:<marker>] <source>/<method>[ <brand> *<last4>] ref <platform id> gross <g> fee <f> net <n>``
e.g. ``[WB:8d7803cbf8ca4757] card_terminal/card Visa *4242 ref pay_123 gross 100.00 fee 3.20
net 96.80``. The bracketed marker is what reconciliation searches for, so it stays first; a
fee written as its own adjustment carries ``[WB:<marker>:fee]``.
"""

from __future__ import annotations

import re

from domain.enums import PaymentMethod, PaymentSource
from domain.money import format_cents

_MARKER_RE = re.compile(r"\[WB:([0-9a-f]{16})\]")


def marker_for(intent_id: str) -> str:
    return intent_id.replace("-", "")[:16]


def tag(marker: str) -> str:
    return f"[WB:{marker}]"


def payment_note(
    marker: str,
    source: PaymentSource,
    method: PaymentMethod,
    gross_cents: int,
    fee_cents: int,
    platform_ref: str = "",
    card_brand: str | None = None,
    card_last4: str | None = None,
) -> str:
    card = f" {card_brand or 'card'} *{card_last4}" if card_last4 else ""
    ref = f" ref {platform_ref}" if platform_ref else ""
    return (
        f"{tag(marker)} {source.value}/{method.value}{card}{ref} gross {format_cents(gross_cents)} "
        f"fee {format_cents(fee_cents)} net {format_cents(gross_cents - fee_cents)}"
    )


def fee_marker(marker: str) -> str:
    return f"{marker}:fee"


def fee_note(marker: str, platform_ref: str, fee_cents: int) -> str:
    fee = format_cents(fee_cents)
    return f"{tag(fee_marker(marker))} card fee {fee} for payment ref {platform_ref}"


def refund_note(marker: str, platform_ref: str, original_marker: str) -> str:
    return f"{tag(marker)} refund ref {platform_ref} of [WB:{original_marker}]"


def marker_in(note: str) -> str | None:
    match = _MARKER_RE.search(note)
    return match.group(1) if match else None
