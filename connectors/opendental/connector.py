"""Open Dental behind the PmsConnector port."""

from __future__ import annotations

from contextlib import aclosing
from datetime import date
from typing import Final

import httpx

from connectors.opendental import mapping
from connectors.opendental.client import OpenDentalClient
from domain.ports import (
    Capabilities,
    OutcomeUnknownError,
    PaymentPosting,
    PermanentError,
    PmsCredentials,
    PmsOption,
    PostedRecord,
    RateLimiter,
)

OPEN_DENTAL_CAPABILITIES: Final = Capabilities(
    patient_payments=True,
    # POST /payments takes patient payments only; insurance goes through claim payments.
    insurance_payments_as_patient_payments=False,
    instant_timing=True,
    numeric_patient_ids=True,
)

_HINT_POSTING: Final = (
    "Check the patient's PatNum and the payment type in Open Dental, then post again."
)
_HINT_SETTINGS: Final = "Check the Open Dental connection settings."


class OpenDentalConnector:
    """One office's Open Dental; cheap to build per job (the HTTP client is shared)."""

    capabilities = OPEN_DENTAL_CAPABILITIES

    def __init__(
        self,
        credentials: PmsCredentials,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        timeout_seconds: float = 10.0,
        max_throttle_wait_seconds: float = 5.0,
    ) -> None:
        self._client = OpenDentalClient(
            credentials,
            http,
            limiter,
            timeout_seconds=timeout_seconds,
            max_throttle_wait_seconds=max_throttle_wait_seconds,
        )

    async def post_payment(self, posting: PaymentPosting) -> PostedRecord:
        # Open Dental has no idempotency key: the marker in PayNote is what find_payment
        # uses to tell whether an ambiguous attempt landed.
        body = mapping.to_opendental_payment(posting)
        row = await self._client.post(
            "/payments", body, action="posting the payment", hint=_HINT_POSTING
        )
        if "PayNum" not in row:
            # 201 means it was stored, but without PayNum we cannot name the record.
            raise OutcomeUnknownError("Open Dental stored the payment but sent no PayNum.")
        return mapping.from_opendental_payment(row)

    async def find_payment(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None:
        params: dict[str, str | int] = {
            "PatNum": mapping.parse_pat_num(patient_ref),
            "DateEntry": entered_since.strftime(mapping.DATE_FORMAT),
        }
        pages = self._client.pages(
            "/payments", params, action="looking up earlier payments", hint=_HINT_POSTING
        )
        # Stops at the first match; aclosing ends the page generator right away.
        async with aclosing(pages):
            async for page in pages:
                for row in page:
                    if marker in mapping.payment_note(row):
                        return mapping.from_opendental_payment(row)
        return None

    async def list_payment_types(self, *, include_hidden: bool = False) -> list[PmsOption]:
        params: dict[str, str | int] = {"Category": mapping.PAYMENT_TYPES_CATEGORY}
        if include_hidden:
            params["includeHidden"] = "true"
        rows = await self._client.get_all(
            "/definitions", params, action="reading payment types", hint=_HINT_SETTINGS
        )
        return [mapping.from_opendental_definition(row) for row in rows]

    async def list_providers(self) -> list[PmsOption]:
        rows = await self._client.get_all(
            "/providers", {}, action="reading providers", hint=_HINT_SETTINGS
        )
        return [mapping.from_opendental_provider(row) for row in rows]

    async def patient_exists(self, patient_ref: str) -> bool:
        try:
            pat_num = mapping.parse_pat_num(patient_ref)
        except PermanentError:
            return False
        row = await self._client.get_one(
            f"/patients/{pat_num}", action="looking up the patient", hint=mapping.HINT_PATIENT
        )
        return row is not None
