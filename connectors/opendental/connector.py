"""Open Dental behind the PmsConnector port."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import httpx

from connectors.opendental import mapping
from connectors.opendental.client import OpenDentalClient
from connectors.opendental.communications import CommunicationWrites
from connectors.opendental.sync import OpenDentalSync
from domain.ports import (
    AdjustmentPosting,
    Capabilities,
    ChangedAppointments,
    ChangedPatients,
    CommlogPosting,
    ConnectorError,
    CredentialsError,
    DocumentUpload,
    InsurancePaymentPosting,
    OutcomeUnknownError,
    PatientNoteAppend,
    PatientPhoto,
    PaymentPosting,
    PermanentError,
    PmsCredentials,
    PmsDocument,
    PmsOption,
    PostedRecord,
    RateLimiter,
    RefundPosting,
    TaskNotePosting,
    TransientError,
)

OPEN_DENTAL_CAPABILITIES: Final = Capabilities(
    patient_payments=True,
    # POST /payments takes patient payments only; insurance goes through claim payments.
    insurance_payments_as_patient_payments=False,
    insurance_claim_payments=True,
    fee_adjustments=True,
    refunds=True,
    payment_plans=True,
    instant_timing=True,
    numeric_patient_ids=True,
)

_HINT_POSTING: Final = (
    "Check the patient's PatNum and the payment type in Open Dental, then post again."
)
_HINT_SETTINGS: Final = "Check the Open Dental connection settings."
_HINT_ADJUSTMENT: Final = (
    "Check the patient's PatNum and the adjustment type in Open Dental, then post again."
)


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
        self._communications = CommunicationWrites(self._client)
        self._sync = OpenDentalSync(self._client)

    # ------------------------------------------------------------------ patient payments

    async def post_payment(self, posting: PaymentPosting) -> PostedRecord:
        # Open Dental has no idempotency key: the marker in PayNote is what find_payment
        # uses to tell whether an ambiguous attempt landed.
        body = mapping.to_opendental_payment(posting)
        hint = _HINT_POSTING
        if "payPlanNum" in body:
            await self._check_payment_plan(body["PatNum"], body["payPlanNum"])
            hint = mapping.HINT_PAYMENT_PLAN
        row = await self._client.post("/payments", body, action="posting the payment", hint=hint)
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
        async with aclosing(self._payments(params)) as rows:
            async for row in rows:
                # A refund made through the API copies the original's PayNote (and ours
                # names the original's marker too), so a negative payment carrying the
                # marker is a refund of the payment, never the payment itself.
                if _is_negative(row, "PayAmt"):
                    continue
                if mapping.has_marker(mapping.payment_note(row), marker):
                    return mapping.from_opendental_payment(row)
        return None

    async def get_payment(self, patient_ref: str, record_id: str) -> PostedRecord | None:
        pat_num = mapping.parse_pat_num(patient_ref)
        if not mapping.is_key(record_id):
            return None  # not a PayNum, so no such payment
        row = await self._payment_row(pat_num, int(record_id))
        return mapping.from_opendental_payment(row) if row is not None else None

    async def _check_payment_plan(self, pat_num: int, pay_plan_num: int) -> None:
        """Refuse before posting unless the plan is an open dynamic plan of the patient.

        Open Dental documents payPlanNum only as "for a Dynamic Payment Plan"; what it does
        with a closed, old-style or another patient's plan is not documented, so the plan is
        checked here instead of relying on a refusal (and its wording).
        """
        rows = await self._client.get_all(
            "/payplans",
            {"PatNum": pat_num},
            action="looking up the payment plan",
            hint=mapping.HINT_PAYMENT_PLAN,
        )
        plan = next((r for r in rows if mapping.key_of(r.get("PayPlanNum")) == pay_plan_num), None)
        if plan is None:
            raise PermanentError(
                "The payment plan is not one of this patient's plans in Open Dental.",
                mapping.HINT_PAYMENT_PLAN,
            )
        if mapping.od_bool(plan.get("IsClosed")):
            raise PermanentError(
                "The payment plan is closed in Open Dental.", mapping.HINT_PAYMENT_PLAN
            )
        if not mapping.od_bool(plan.get("IsDynamic")):
            raise PermanentError(
                "The payment plan is an old-style plan; Open Dental's API attaches payments "
                "only to dynamic payment plans.",
                mapping.HINT_PAYMENT_PLAN,
            )

    # ------------------------------------------------------------------ adjustments

    async def post_adjustment(self, posting: AdjustmentPosting) -> PostedRecord:
        # Like payments, findable afterwards only by the marker in AdjNote.
        body = mapping.to_opendental_adjustment(posting)
        row = await self._client.post(
            "/adjustments", body, action="posting the adjustment", hint=_HINT_ADJUSTMENT
        )
        if "AdjNum" not in row:
            raise OutcomeUnknownError("Open Dental stored the adjustment but sent no AdjNum.")
        return mapping.from_opendental_adjustment(row)

    async def find_adjustment(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None:
        params: dict[str, str | int] = {"PatNum": mapping.parse_pat_num(patient_ref)}
        pages = self._client.pages(
            "/adjustments", params, action="looking up earlier adjustments", hint=_HINT_ADJUSTMENT
        )
        async with aclosing(pages):
            async for page in pages:
                for row in page:
                    # Adjustments GET has no date filter: filter here, on either date, since
                    # AdjDate is the posting's own date and DateEntry when it was written.
                    dates = (mapping.date_of(row, "AdjDate"), mapping.date_of(row, "DateEntry"))
                    if not any(d is not None and d >= entered_since for d in dates):
                        continue
                    if mapping.has_marker(mapping.text_of(row, "AdjNote"), marker):
                        return mapping.from_opendental_adjustment(row)
        return None

    # ------------------------------------------------------------------ refunds

    async def refund_payment(self, posting: RefundPosting) -> PostedRecord:
        pat_num = mapping.parse_pat_num(posting.patient_ref)
        pay_num = _original_pay_num(posting)
        # POST /payments/Refund takes a bare PayNum: check it is this patient's payment
        # first, so a wrong reference can never refund another patient's money.
        original = await self._payment_row(pat_num, pay_num)
        if original is None:
            raise PermanentError(
                "The payment to refund is not one of this patient's payments in Open Dental.",
                mapping.HINT_REFUND,
            )
        if not _is_positive(original, "PayAmt"):
            raise PermanentError(
                "The payment to refund is not a positive payment.", mapping.HINT_REFUND
            )
        refund = await self._client.post(
            "/payments/Refund",
            {"PayNum": pay_num},
            action="refunding the payment",
            hint=mapping.HINT_REFUND,
            prefer_hint=True,
        )
        refund_num = mapping.key_of(refund.get("PayNum"))
        if refund_num <= 0:
            raise OutcomeUnknownError("Open Dental made the refund but sent no PayNum.")
        # The refund starts with a copy of the original's note; ours carries the marker
        # find_refund looks for.
        try:
            noted = await self._client.put(
                f"/payments/{refund_num}",
                {"PayNote": posting.note},
                action="noting the refund",
                hint=mapping.HINT_REFUND,
            )
        except ConnectorError as exc:
            # The refund exists: reporting a failure could lead to a second one. As an
            # unknown outcome the next attempt reconciles first, and find_refund recognises
            # the refund even without our note.
            raise OutcomeUnknownError(
                "Open Dental made the refund but did not take its note; "
                "it will be found by reconciling."
            ) from exc
        return mapping.from_opendental_payment(noted if "PayNum" in noted else refund)

    async def find_refund(self, posting: RefundPosting, entered_since: date) -> PostedRecord | None:
        pat_num = mapping.parse_pat_num(posting.patient_ref)
        pay_num = _original_pay_num(posting)
        params: dict[str, str | int] = {
            "PatNum": pat_num,
            "DateEntry": entered_since.strftime(mapping.DATE_FORMAT),
        }
        unnoted: list[dict[str, Any]] = []
        async with aclosing(self._payments(params)) as rows:
            async for row in rows:
                if mapping.has_marker(mapping.payment_note(row), posting.marker):
                    return mapping.from_opendental_payment(row)
                if _is_negative(row, "PayAmt") and mapping.key_of(row.get("PayNum")) > pay_num:
                    unnoted.append(row)
        if not unnoted:
            return None
        # The Refund call is the one write that can land without our marker: when the PUT
        # of the note failed (or its answer was lost). Open Dental documents the refund as
        # a new negative payment that copies the original's PayNote, and refuses to refund
        # a payment twice, so a later negative payment of exactly minus the original's
        # amount with the original's note can only be the refund of that payment. The
        # original may predate `entered_since`, hence the separate lookup.
        original = await self._payment_row(pat_num, pay_num)
        if original is None:
            return None
        amount = mapping.amount_of(original, "PayAmt")
        note = mapping.payment_note(original)
        if amount is None:
            return None
        for row in unnoted:
            if mapping.amount_of(row, "PayAmt") == -amount and mapping.payment_note(row) == note:
                return mapping.from_opendental_payment(row)
        return None

    # ------------------------------------------------------------------ insurance payments

    async def post_insurance_payment(self, posting: InsurancePaymentPosting) -> PostedRecord:
        """Open Dental's documented sequence for an insurance check on one claim:

        1. ClaimProcs PUT: each claimproc not yet on a check gets Status "Received" and its
           share of the amount as InsPayAmt (see mapping.claimproc_shares);
        2. Claims PUT: ClaimStatus "R";
        3. ClaimPayments POST: CheckAmt = the amount (Open Dental checks it equals the
           received InsPayAmt not yet on a check), Note = the posting's note with the marker.

        Every step is skipped on a retry when an earlier attempt already did it, so a
        failure between steps never doubles a receipt. A transient failure after this call
        wrote something is reported as an unknown outcome (the next attempt reconciles by
        marker, then completes the remaining steps).
        """
        pat_num = mapping.parse_pat_num(posting.patient_ref)
        claim_num = mapping.parse_key(
            posting.claim_ref,
            "The claim reference is not an Open Dental ClaimNum.",
            mapping.HINT_CLAIM,
        )
        cents = mapping.payment_cents(posting.amount)
        check = mapping.to_opendental_claimpayment(posting, claim_num)
        claim = await self._claim(pat_num, claim_num)
        procs = await self._client.get_all(
            "/claimprocs",
            {"ClaimNum": claim_num},
            action="reading the claim's procedures",
            hint=mapping.HINT_CLAIM,
        )
        shares = mapping.claimproc_shares(procs, cents)
        by_num = {mapping.key_of(p.get("ClaimProcNum")): p for p in procs}
        receipts: list[tuple[int, int]] = []
        for claim_proc_num, share in shares:
            proc = by_num[claim_proc_num]
            if proc.get("Status") != mapping.RECEIVED:
                receipts.append((claim_proc_num, share))
            elif mapping.cents_of(proc.get("InsPayAmt")) != share:
                # Not what an earlier attempt of this posting wrote (it would have written
                # this very share): someone is receiving the claim by hand. Checked before
                # any write, so the claim is left as they left it.
                raise PermanentError(
                    "Some of the claim's procedures are already received with other amounts "
                    "in Open Dental.",
                    mapping.HINT_CLAIM,
                )
        wrote = False
        try:
            for claim_proc_num, share in receipts:
                await self._client.put(
                    f"/claimprocs/{claim_proc_num}",
                    {"Status": mapping.RECEIVED, "InsPayAmt": mapping.money(share)},
                    action="receiving the claim's procedures",
                    hint=mapping.HINT_CLAIM,
                    prefer_hint=True,
                )
                wrote = True
            if claim.get("ClaimStatus") != "R":
                await self._client.put(
                    f"/claims/{claim_num}",
                    {
                        "ClaimStatus": "R",
                        "DateReceived": posting.pay_date.strftime(mapping.DATE_FORMAT),
                    },
                    action="marking the claim received",
                    hint=mapping.HINT_CLAIM,
                    prefer_hint=True,
                )
                wrote = True
            row = await self._client.post(
                "/claimpayments",
                check,
                action="finalizing the insurance payment",
                hint=mapping.HINT_CLAIM,
                prefer_hint=True,
            )
        except CredentialsError:
            raise  # fixing the keys and retrying completes the remaining steps
        except PermanentError as exc:
            if not wrote:
                raise
            raise PermanentError(
                f"{exc.message} The claim's procedures were already marked received; "
                "finish the insurance payment on the claim in Open Dental.",
                mapping.HINT_CLAIM,
            ) from exc
        except TransientError as exc:
            if not wrote:
                raise
            raise OutcomeUnknownError(
                "Open Dental took part of the insurance payment before failing "
                f"({exc.message}); the next attempt completes it."
            ) from exc
        if "ClaimPaymentNum" not in row:
            raise OutcomeUnknownError("Open Dental stored the claim payment but sent no number.")
        return mapping.from_opendental_claimpayment(row)

    async def find_insurance_payment(
        self, posting: InsurancePaymentPosting, entered_since: date
    ) -> PostedRecord | None:
        # SecDateTEdit is "edited on or after": a claim payment made since the date has a
        # stamp since then, however often it was edited later. Claim payments carry no
        # PatNum, so this reads the office's claim payments of the period; the marker is
        # unique to the posting.
        since = f"{entered_since.strftime(mapping.DATE_FORMAT)} 00:00:00"
        pages = self._client.pages(
            "/claimpayments",
            {"SecDateTEdit": since},
            action="looking up earlier insurance payments",
            hint=mapping.HINT_CLAIM,
        )
        async with aclosing(pages):
            async for page in pages:
                for row in page:
                    if mapping.has_marker(mapping.text_of(row, "Note"), posting.marker):
                        return mapping.from_opendental_claimpayment(row)
        return None

    async def _claim(self, pat_num: int, claim_num: int) -> dict[str, Any]:
        claim = await self._client.get_one(
            f"/claims/{claim_num}", action="reading the claim", hint=mapping.HINT_CLAIM
        )
        if claim is None:
            raise PermanentError("The claim does not exist in Open Dental.", mapping.HINT_CLAIM)
        if mapping.key_of(claim.get("PatNum")) != pat_num:
            raise PermanentError("The claim belongs to another patient.", mapping.HINT_CLAIM)
        if claim.get("ClaimType") == "PreAuth":
            raise PermanentError(
                "The claim is a preauthorization, which is not paid.", mapping.HINT_CLAIM
            )
        return claim

    # ------------------------------------------------------------------ communications

    async def post_commlog(self, posting: CommlogPosting) -> PostedRecord:
        return await self._communications.post_commlog(posting)

    async def find_commlog(
        self, patient_ref: str, marker: str, entered_since: date
    ) -> PostedRecord | None:
        return await self._communications.find_commlog(patient_ref, marker, entered_since)

    async def append_patient_note(self, posting: PatientNoteAppend) -> PostedRecord:
        return await self._communications.append_patient_note(posting)

    async def find_patient_note(self, posting: PatientNoteAppend) -> PostedRecord | None:
        return await self._communications.find_patient_note(posting)

    async def post_task_note(self, posting: TaskNotePosting) -> PostedRecord:
        return await self._communications.post_task_note(posting)

    async def find_task_note(self, posting: TaskNotePosting) -> PostedRecord | None:
        return await self._communications.find_task_note(posting)

    async def upload_document(self, upload: DocumentUpload) -> PostedRecord:
        return await self._communications.upload_document(upload)

    async def find_document(self, upload: DocumentUpload) -> PostedRecord | None:
        return await self._communications.find_document(upload)

    async def list_documents(self, patient_ref: str, category: str) -> list[PmsDocument]:
        return await self._communications.list_documents(patient_ref, category)

    # ------------------------------------------------------------------ lists and lookups

    async def list_payment_types(self, *, include_hidden: bool = False) -> list[PmsOption]:
        params: dict[str, str | int] = {"Category": mapping.PAYMENT_TYPES_CATEGORY}
        if include_hidden:
            params["includeHidden"] = "true"
        rows = await self._client.get_all(
            "/definitions", params, action="reading payment types", hint=_HINT_SETTINGS
        )
        return [mapping.from_opendental_definition(row) for row in rows]

    async def list_adjustment_types(self, *, include_hidden: bool = False) -> list[PmsOption]:
        params: dict[str, str | int] = {"Category": mapping.ADJ_TYPES_CATEGORY}
        if include_hidden:
            params["includeHidden"] = "true"
        rows = await self._client.get_all(
            "/definitions", params, action="reading adjustment types", hint=_HINT_SETTINGS
        )
        return [
            mapping.from_opendental_adjustment_type(row)
            for row in rows
            if row.get("ItemValue") in mapping.ADJ_SIGNS
        ]

    async def list_note_types(self) -> list[PmsOption]:
        rows = await self._client.get_all(
            "/definitions",
            {"Category": mapping.COMMLOG_TYPES_CATEGORY},
            action="reading commlog types",
            hint=_HINT_SETTINGS,
        )
        return [mapping.from_opendental_definition(row) for row in rows]

    async def list_document_categories(self) -> list[PmsOption]:
        rows = await self._client.get_all(
            "/definitions",
            {"Category": mapping.IMAGE_CATEGORIES_CATEGORY},
            action="reading image categories",
            hint=_HINT_SETTINGS,
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

    async def _payments(self, params: dict[str, str | int]) -> AsyncGenerator[dict[str, Any], None]:
        """Payment rows, page by page (a patient's list can pass the 100-row page)."""
        pages = self._client.pages(
            "/payments", params, action="looking up earlier payments", hint=_HINT_POSTING
        )
        # aclosing ends the page generator at once when the caller stops at a match.
        async with aclosing(pages):
            async for page in pages:
                for row in page:
                    yield row

    async def _payment_row(self, pat_num: int, pay_num: int) -> dict[str, Any] | None:
        # Open Dental documents no single-payment GET, so the patient's list is searched.
        async with aclosing(self._payments({"PatNum": pat_num})) as rows:
            async for row in rows:
                if mapping.key_of(row.get("PayNum")) == pay_num:
                    return row
        return None

    # ------------------------------------------------------------------ sync (polling)

    async def patients_changed_since(self, since: datetime | None) -> ChangedPatients:
        return await self._sync.patients_changed_since(since)

    async def appointments_changed_since(
        self, since: datetime | None, first_day: date | None, last_day: date | None
    ) -> ChangedAppointments:
        return await self._sync.appointments_changed_since(
            since, first_day, last_day
        )

    async def patient_photo(self, patient_ref: str) -> PatientPhoto | None:
        return await self._sync.patient_photo(patient_ref)


def _original_pay_num(posting: RefundPosting) -> int:
    return mapping.parse_key(
        posting.original_record_id,
        "The payment to refund is not an Open Dental PayNum.",
        mapping.HINT_REFUND,
    )


def _is_negative(row: dict[str, Any], column: str) -> bool:
    amount = mapping.amount_of(row, column)
    return amount is not None and amount < 0


def _is_positive(row: dict[str, Any], column: str) -> bool:
    amount = mapping.amount_of(row, column)
    return amount is not None and amount > Decimal(0)
