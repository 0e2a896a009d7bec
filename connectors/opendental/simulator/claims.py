"""Insurance payments on claims: claims, claimprocs and claimpayments.

Open Dental takes an insurance check in three documented steps: ClaimProcs PUT (Status
Received or Supplemental, InsPayAmt), Claims PUT (ClaimStatus "R"), then ClaimPayments POST,
whose CheckAmt must equal the InsPayAmt of the claim's claimprocs not yet on a check. Only
what that path needs is simulated: no insurance plans, benefits, write-offs or deposits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from starlette.requests import Request

from connectors.opendental.simulator import seed
from connectors.opendental.simulator.fields import (
    ApiError,
    as_amount,
    as_date,
    as_datetime,
    as_int,
    as_str,
    fmt_date,
    fmt_datetime,
    invalid,
    require,
)
from connectors.opendental.simulator.state import RECEIVED_STATUSES, Row, SimulatorState

CLAIMPROC_STATUSES: Final = frozenset(
    {
        "NotReceived",
        "Received",
        "Preauth",
        "Adjustment",
        "Supplemental",
        "CapClaim",
        "Estimate",
        "CapComplete",
        "CapEstimate",
        "InsHist",
    }
)
# The statuses ClaimProcs PUT may set.
SETTABLE_CLAIMPROC_STATUSES: Final = frozenset(
    {"NotReceived", "Received", "Preauth", "Supplemental", "Estimate"}
)
# Claimprocs ClaimProcs PUT refuses to touch ("use ClaimProcs PUT InsAdjust" for adjustments).
FROZEN_CLAIMPROC_STATUSES: Final = frozenset(
    {"Adjustment", "InsHist", "CapClaim", "CapComplete", "CapEstimate"}
)
CLAIM_STATUSES: Final = frozenset({"U", "H", "W", "S", "R"})
# claimpayment columns: CheckNum/BankBranch varchar(25), Note varchar(255).
CHECK_NUM_MAX: Final = 25
BANK_BRANCH_MAX: Final = 25
NOTE_MAX: Final = 255


# ---------------------------------------------------------------------------- reads


def get_claim(state: SimulatorState, request: Request) -> Row:
    """GET /claims/{ClaimNum} (23.3.11)."""
    claim = state.claim(as_int(request.path_params["claim_num"], "ClaimNum"))
    if claim is None:
        raise ApiError(404, "Claim not found.")
    return claim


def list_claimprocs(state: SimulatorState, request: Request) -> list[Row]:
    """GET /claimprocs (22.2.33): ProcNum, ClaimNum, PatNum, Status, ClaimPaymentNum."""
    query = request.query_params
    tests: list[Callable[[Row], bool]] = []
    for name in ("ProcNum", "ClaimNum", "PatNum", "ClaimPaymentNum"):
        if name in query:
            tests.append(_equals(name, as_int(query[name], name)))
    if "Status" in query:
        if query["Status"] not in CLAIMPROC_STATUSES:
            raise invalid("Status")
        tests.append(_equals("Status", query["Status"]))
    return [row for row in state.claimprocs if all(test(row) for test in tests)]


def list_claimpayments(state: SimulatorState, request: Request) -> list[Row]:
    """GET /claimpayments (23.2.15): SecDateTEdit, rows edited on or after it."""
    value = request.query_params.get("SecDateTEdit")
    if value is None:
        return list(state.claimpayments)
    since = fmt_datetime(as_datetime(value, "SecDateTEdit"))
    return [row for row in state.claimpayments if str(row["SecDateTEdit"]) >= since]


def _equals(name: str, value: object) -> Callable[[Row], bool]:
    return lambda row: row[name] == value


# ---------------------------------------------------------------------------- writes


def update_claimproc(state: SimulatorState, claim_proc_num: int, body: Mapping[str, Any]) -> Row:
    """ClaimProcs PUT (22.3.33), the Status and InsPayAmt part of it.

    InsPayAmt (and with it the status) cannot change once the claimproc is on a check.
    Receiving sets DateEntry to today, and the claim's totals are recalculated.
    """
    proc = state.claimproc(claim_proc_num)
    if proc is None:
        raise ApiError(404, "ClaimProc not found.")
    if proc["Status"] in FROZEN_CLAIMPROC_STATUSES or proc["IsTransfer"] == "true":
        raise ApiError(400, f"Cannot update a ClaimProc with a Status of {proc['Status']}.")
    changes: dict[str, Any] = {}
    if body.get("Status") is not None:
        status = as_str(body["Status"], "Status")
        if status not in SETTABLE_CLAIMPROC_STATUSES:
            raise invalid("Status")
        changes["Status"] = status
    if body.get("InsPayAmt") is not None:
        changes["InsPayAmt"] = as_amount(body["InsPayAmt"], "InsPayAmt")
    if "Remarks" in body:
        changes["Remarks"] = as_str(body["Remarks"], "Remarks")
    on_check = proc["ClaimPaymentNum"] != 0
    if on_check and ("InsPayAmt" in changes or "Status" in changes):
        raise ApiError(
            400, "InsPayAmt cannot be updated once the procedure is attached to a check."
        )
    proc.update(changes)
    today = fmt_date(state.today())
    if changes.get("Status") in RECEIVED_STATUSES:
        proc["DateEntry"] = today
        proc["DateCP"] = today
    proc["SecDateTEdit"] = state.server_date_time()
    claim = state.claim(int(proc["ClaimNum"]))
    if claim is not None:
        amounts = [p["InsPayAmt"] for p in state.claimprocs_of(int(claim["ClaimNum"]))]
        claim["InsPayAmt"] = sum(amounts, Decimal("0.00"))
        claim["SecDateTEdit"] = proc["SecDateTEdit"]
    return proc


def update_claim(state: SimulatorState, claim_num: int, body: Mapping[str, Any]) -> Row:
    """Claims PUT (21.4), the ClaimStatus and DateReceived part of it."""
    claim = state.claim(claim_num)
    if claim is None:
        raise ApiError(404, "Claim not found.")
    changes: dict[str, Any] = {}
    if body.get("ClaimStatus") is not None:
        status = as_str(body["ClaimStatus"], "ClaimStatus")
        if status not in CLAIM_STATUSES:
            raise invalid("ClaimStatus")
        changes["ClaimStatus"] = status
    if body.get("DateReceived") is not None:
        changes["DateReceived"] = fmt_date(as_date(body["DateReceived"], "DateReceived"))
    if "ClaimNote" in body:
        changes["ClaimNote"] = as_str(body["ClaimNote"], "ClaimNote")
    claim.update(changes)
    # Like the Claim window: a claim marked received without a date is received today.
    if changes.get("ClaimStatus") == "R" and claim["DateReceived"] == "0001-01-01":
        claim["DateReceived"] = fmt_date(state.today())
    claim["SecDateTEdit"] = state.server_date_time()
    return claim


def create_claimpayment(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    """ClaimPayments POST (22.4.8): finalize one claim's check.

    CheckAmt must equal the InsPayAmt of the claim's claimprocs with ClaimPaymentNum 0.
    Requiring the claim to be received ("R") and at least one received claimproc follows the
    documented order of the steps; Open Dental's exact refusal texts are not documented.
    """
    if state.claim_payment_batch_only:
        raise ApiError(400, "The office only allows batch insurance payments.")
    claim_num = as_int(require(body, "claimNum"), "claimNum")
    claim = state.claim(claim_num)
    if claim is None:
        raise ApiError(404, "Claim not found.")
    check_amt = as_amount(require(body, "CheckAmt"), "CheckAmt")
    pay_type = _definition(state, body.get("PayType"), "PayType", seed.INSURANCE_PAYMENT_TYPES)
    pay_group = _definition(state, body.get("PayGroup"), "PayGroup", seed.CLAIM_PAYMENT_GROUPS)
    check_date = as_date(body["CheckDate"], "CheckDate") if body.get("CheckDate") else None
    date_issued = as_date(body["DateIssued"], "DateIssued") if body.get("DateIssued") else None
    check_num = as_str(body.get("CheckNum", ""), "CheckNum", CHECK_NUM_MAX)
    bank_branch = as_str(body.get("BankBranch", ""), "BankBranch", BANK_BRANCH_MAX)
    note = as_str(body.get("Note", ""), "Note", NOTE_MAX)
    carrier = as_str(body["CarrierName"], "CarrierName") if body.get("CarrierName") else None
    clinic_num = None
    if body.get("ClinicNum") is not None:
        clinic_num = as_int(body["ClinicNum"], "ClinicNum")
    if claim["ClaimStatus"] != "R":
        raise ApiError(400, 'The claim must have a ClaimStatus of "R" (Received).')
    unattached = [p for p in state.claimprocs_of(claim_num) if p["ClaimPaymentNum"] == 0]
    if not any(p["Status"] in RECEIVED_STATUSES for p in unattached):
        raise ApiError(400, "The claim has no received ClaimProcs to attach to a payment.")
    total = sum((Decimal(p["InsPayAmt"]) for p in unattached), Decimal("0.00"))
    if check_amt != total:
        raise ApiError(
            400,
            "CheckAmt must match the total InsPayAmt of the claim's ClaimProcs that are "
            "not attached to a payment.",
        )
    return state.add_claimpayment(
        claim_num,
        check_amt,
        pay_type=pay_type,
        pay_group=pay_group,
        check_date=check_date,
        check_num=check_num,
        bank_branch=bank_branch,
        note=note,
        clinic_num=clinic_num,
        carrier_name=carrier,
        date_issued=date_issued,
    )


def _definition(state: SimulatorState, value: Any, name: str, category: int) -> int:
    """A visible definition of `category`; absent means the first one (the documented default)."""
    if value is None:
        first = state.first_definition(category)
        if first is None:
            raise ApiError(400, f"No {name} definitions are set up.")
        return int(first["DefNum"])
    def_num = as_int(value, name)
    row = state.definition(def_num, category)
    if row is None or row["isHidden"] == "true":
        raise invalid(name)
    return def_num
