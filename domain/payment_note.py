"""The reference we leave in the PMS payment note.

Format (one line, no PHI):  ``[WB:<marker>] <source>/<method> gross <g> fee <f> net <n>``
The bracketed marker is what reconciliation searches for, so it must stay first and unique.
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
    marker: str, source: PaymentSource, method: PaymentMethod, gross_cents: int, fee_cents: int
) -> str:
    return (
        f"{tag(marker)} {source.value}/{method.value} gross {format_cents(gross_cents)} "
        f"fee {format_cents(fee_cents)} net {format_cents(gross_cents - fee_cents)}"
    )


def marker_in(note: str) -> str | None:
    match = _MARKER_RE.search(note)
    return match.group(1) if match else None
