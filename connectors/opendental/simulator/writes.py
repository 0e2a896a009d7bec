"""POST/PUT handlers for payments, adjustments and commlogs: Open Dental's documented
validation, then a row in the state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from connectors.opendental.simulator import seed
from connectors.opendental.simulator.fields import (
    ApiError,
    as_amount,
    as_bool,
    as_date,
    as_datetime,
    as_int,
    as_str,
    invalid,
    require,
)
from connectors.opendental.simulator.state import Row, SimulatorState

# Column widths of the payment table (varchar(25)).
CHECK_NUM_MAX: Final = 25
BANK_BRANCH_MAX: Final = 25
COMMLOG_MODES: Final = frozenset(
    {"None", "Email", "Mail", "Phone", "In Person", "Text", "Email and Text", "Phone and Text"}
)
SENT_OR_RECEIVED: Final = frozenset({"Neither", "Sent", "Received"})
# Payments PUT (24.3.26) takes only the online statuses; OfficeProcessed is set by the office.
PROCESS_STATUSES: Final = frozenset({"OnlineProcessed", "OnlinePending"})


def _patient(state: SimulatorState, body: Mapping[str, Any]) -> int:
    pat_num = as_int(require(body, "PatNum"), "PatNum")
    if pat_num not in state.patients:
        raise invalid("PatNum")
    return pat_num


def _visible_definition(state: SimulatorState, value: Any, name: str, category: int) -> int:
    def_num = as_int(value, name)
    row = state.definition(def_num, category)
    if row is None or row["isHidden"] == "true":
        raise invalid(name)
    return def_num


def create_payment(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    pat_num = _patient(state, body)
    amount = as_amount(require(body, "PayAmt"), "PayAmt")
    if amount == 0:
        raise ApiError(400, "PayAmt cannot be zero.")
    pay_type = None
    if body.get("PayType") is not None:
        pay_type = _visible_definition(state, body["PayType"], "PayType", seed.PAYMENT_TYPES)
    pay_date = state.today()
    if body.get("PayDate") is not None:
        pay_date = as_date(body["PayDate"], "PayDate")
    if pay_date > state.today() and not state.allow_future_pay_dates:
        raise ApiError(400, "PayDate cannot be in the future.")
    check_num = as_str(body.get("CheckNum", ""), "CheckNum", CHECK_NUM_MAX)
    bank_branch = as_str(body.get("BankBranch", ""), "BankBranch", BANK_BRANCH_MAX)
    pay_note = as_str(body.get("PayNote", ""), "PayNote")
    clinic_num = None
    if body.get("ClinicNum") is not None:
        clinic_num = as_int(body["ClinicNum"], "ClinicNum")
    # Split allocation is not simulated, but the options are still validated.
    for flag in ("isPatientPreferred", "isPrepayment"):
        if body.get(flag) is not None:
            as_bool(body[flag], flag)
    pay_plan_num = _pay_plan(state, body.get("payPlanNum"), pat_num)
    proc_nums = body.get("procNums", [])
    if not isinstance(proc_nums, list):
        raise invalid("procNums")
    for proc_num in proc_nums:
        as_int(proc_num, "procNums")  # non-family procedures are ignored, as in Open Dental
    return state.add_payment(
        pat_num,
        amount,
        pay_type=pay_type,
        pay_date=pay_date,
        pay_note=pay_note,
        check_num=check_num,
        bank_branch=bank_branch,
        clinic_num=clinic_num,
        payment_source="API",
        pay_plan_num=pay_plan_num,
    )


def _pay_plan(state: SimulatorState, value: Any, pat_num: int) -> int:
    """payPlanNum (23.1.31): a Dynamic Payment Plan of the patient; 0 or absent for none.

    Before 23.3.4 it also needed isPrepayment "true"; the simulator plays a newer office.
    The refusal texts are the simulator's own (Open Dental's are not documented); they name
    the field, as Open Dental's validation messages do.
    """
    if value is None:
        return 0
    pay_plan_num = as_int(value, "payPlanNum")
    if pay_plan_num == 0:
        return 0
    plan = state.payplan(pay_plan_num)
    if plan is None or pat_num not in (plan["PatNum"], plan["Guarantor"]):
        raise ApiError(400, "payPlanNum is invalid: no such payment plan for this patient.")
    if plan["IsDynamic"] != "true":
        raise ApiError(400, "payPlanNum must be a Dynamic Payment Plan.")
    if plan["IsClosed"] == "true":
        raise ApiError(400, "payPlanNum is for a closed payment plan.")
    return pay_plan_num


def refund_payment(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    """POST /payments/Refund (24.4.28): a new negative payment of the whole original.

    Open Dental documents the refusals for payments attached to payment plans and for
    payments with negative paysplits (which includes refunds themselves). Refusing a second
    refund of the same payment is not documented: the simulator does it because refunding
    twice would pay the money back twice. The texts are the simulator's own.
    """
    pay_num = as_int(require(body, "PayNum"), "PayNum")
    original = state.payment(pay_num)
    if original is None:
        raise ApiError(404, "Payment not found.")
    splits = state.splits_of(pay_num)
    if any(split["PayPlanNum"] != 0 for split in splits):
        raise ApiError(400, "Cannot refund a payment that is attached to a payment plan.")
    if pay_num in state.refund_of or any(split["SplitAmt"] < 0 for split in splits):
        raise ApiError(400, "Cannot refund a payment that has negative paysplits.")
    if state.refunds_of(pay_num):
        raise ApiError(400, "This payment has already been refunded.")
    return state.add_refund(original)


def update_payment(state: SimulatorState, pay_num: int, body: Mapping[str, Any]) -> Row:
    """PUT /payments/{PayNum} (23.3.11): only PayType, CheckNum, BankBranch, PayNote and
    ProcessStatus. Amount, date and patient cannot change; other fields are ignored, as Open
    Dental ignores fields a method does not take. Everything is validated before anything
    changes."""
    row = state.payment(pay_num)
    if row is None:
        raise ApiError(404, "Payment not found.")
    changes: dict[str, Any] = {}
    if body.get("PayType") is not None:
        pay_type = _visible_definition(state, body["PayType"], "PayType", seed.PAYMENT_TYPES)
        type_def = state.definition(pay_type, seed.PAYMENT_TYPES) or {}
        changes.update(PayType=pay_type, payType=type_def.get("ItemName", ""))
    if "CheckNum" in body:
        changes["CheckNum"] = as_str(body["CheckNum"], "CheckNum", CHECK_NUM_MAX)
    if "BankBranch" in body:
        changes["BankBranch"] = as_str(body["BankBranch"], "BankBranch", BANK_BRANCH_MAX)
    if "PayNote" in body:
        changes["PayNote"] = as_str(body["PayNote"], "PayNote")
    if body.get("ProcessStatus") is not None:
        status = as_str(body["ProcessStatus"], "ProcessStatus")
        if status not in PROCESS_STATUSES:
            raise ApiError(400, 'ProcessStatus must be "OnlineProcessed" or "OnlinePending".')
        changes["ProcessStatus"] = status
    row.update(changes)
    row["SecDateTEdit"] = state.server_date_time()
    return row


def create_adjustment(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    pat_num = _patient(state, body)
    adj_type = _visible_definition(state, require(body, "AdjType"), "AdjType", seed.ADJ_TYPES)
    amount = as_amount(require(body, "AdjAmt"), "AdjAmt")
    sign = (state.definition(adj_type, seed.ADJ_TYPES) or {}).get("ItemValue")
    if sign == "+" and amount <= 0:
        raise ApiError(400, "AdjAmt must be positive for this AdjType.")
    if sign == "-" and amount >= 0:
        raise ApiError(400, "AdjAmt must be negative for this AdjType.")
    adj_date = as_date(require(body, "AdjDate"), "AdjDate")
    if adj_date > state.today():
        raise ApiError(400, "AdjDate cannot be in the future.")
    prov_num = None
    if body.get("ProvNum") is not None:
        prov_num = as_int(body["ProvNum"], "ProvNum")
        provider = state.provider(prov_num)
        if provider is None or provider["ProvStatus"] == "Deleted":
            raise invalid("ProvNum")
    if body.get("ProcNum") not in (None, 0, "0"):
        raise invalid("ProcNum")  # the demo practice has no procedures
    clinic_num = None
    if body.get("ClinicNum") is not None:
        clinic_num = as_int(body["ClinicNum"], "ClinicNum")
    return state.add_adjustment(
        pat_num,
        adj_type,
        amount,
        adj_date=adj_date,
        prov_num=prov_num,
        adj_note=as_str(body.get("AdjNote", ""), "AdjNote"),
        clinic_num=clinic_num,
    )


def create_commlog(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    pat_num = _patient(state, body)
    note = as_str(require(body, "Note"), "Note")
    comm_date_time = None
    if body.get("CommDateTime") is not None:
        comm_date_time = as_datetime(body["CommDateTime"], "CommDateTime")
    comm_type = _commlog_type(state, body)
    mode = as_str(body.get("Mode_", "Phone"), "Mode_")
    if mode not in COMMLOG_MODES:
        raise invalid("Mode_")
    sent_or_received = as_str(body.get("SentOrReceived", "Sent"), "SentOrReceived")
    if sent_or_received not in SENT_OR_RECEIVED:
        raise invalid("SentOrReceived")
    return state.add_commlog(
        pat_num,
        note,
        comm_type=comm_type,
        comm_date_time=comm_date_time,
        mode=mode,
        sent_or_received=sent_or_received,
    )


def _commlog_type(state: SimulatorState, body: Mapping[str, Any]) -> int:
    visible = [
        d
        for d in state.definitions
        if d["Category"] == seed.COMMLOG_TYPES and d["isHidden"] == "false"
    ]
    # The newer docs say the name (commType) wins over the DefNum (CommType).
    if body.get("commType") is not None:
        name = as_str(body["commType"], "commType")
        match = next((d for d in visible if d["ItemName"] == name), None)
        if match is None:
            raise invalid("commType")
        return int(match["DefNum"])
    if body.get("CommType") is not None:
        return _visible_definition(state, body["CommType"], "CommType", seed.COMMLOG_TYPES)
    misc = next((d for d in visible if d["ItemValue"] == "MISC"), None)
    return int(misc["DefNum"]) if misc else 0
