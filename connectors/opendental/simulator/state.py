"""In-memory Open Dental office: rows as the API returns them, keys, throttle and faults."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.opendental.simulator import seed
from connectors.opendental.simulator.faults import FaultSwitches
from connectors.opendental.simulator.fields import (
    MIN_DATE,
    MIN_DATETIME,
    fmt_date,
    fmt_datetime,
    od_bool,
)

DEFAULT_DEVELOPER_KEY = "sim-developer-key"
DEFAULT_CUSTOMER_KEY = "sim-customer-key"
# Open Dental's rate for a key with any write permission: one call per second.
DEFAULT_THROTTLE_INTERVAL_SECONDS = 1.0

Row = dict[str, Any]

# Text fields of a patientnote row the API reads and writes.
PATIENT_NOTE_FIELDS = (
    "FamFinancial",
    "Medical",
    "Service",
    "MedicalComp",
    "Treatment",
    "ICEName",
    "ICEPhone",
)

# Claimproc statuses that carry an insurance payment a check can be attached to.
RECEIVED_STATUSES = frozenset({"Received", "Supplemental"})


@dataclass(frozen=True)
class _Settings:
    developer_key: str
    customer_keys: tuple[str, ...]
    throttle_interval_seconds: float
    allow_future_pay_dates: bool


class SimulatorState:
    """Everything the simulator knows; tests read and change it in-process.

    `reset()` brings back the demo practice and the settings given to the constructor.
    """

    def __init__(
        self,
        *,
        developer_key: str = DEFAULT_DEVELOPER_KEY,
        customer_keys: Iterable[str] = (DEFAULT_CUSTOMER_KEY,),
        throttle_interval_seconds: float = DEFAULT_THROTTLE_INTERVAL_SECONDS,
        allow_future_pay_dates: bool = False,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._initial = _Settings(
            developer_key, tuple(customer_keys), throttle_interval_seconds, allow_future_pay_dates
        )
        # Naive local time: Open Dental timestamps carry no zone.
        self.clock = clock
        self.faults = FaultSwitches()
        self._release = asyncio.Event()
        self._late_writes: set[asyncio.Task[None]] = set()
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget all rows, counters and faults; release calls held by latency or hang faults."""
        self.developer_key = self._initial.developer_key
        # customer key -> enabled (an office can disable a key in Setup > Advanced Setup > API)
        self.customer_keys: dict[str, bool] = dict.fromkeys(self._initial.customer_keys, True)
        self.throttle_interval_seconds = self._initial.throttle_interval_seconds
        self.allow_future_pay_dates = self._initial.allow_future_pay_dates
        self.reset_faults()
        self.patients: dict[int, Row] = {}
        self.providers: list[Row] = []
        self.definitions: list[Row] = []
        self.payments: list[Row] = []
        self.paysplits: list[Row] = []
        # refund PayNum -> the PayNum it refunds (POST /payments/Refund)
        self.refund_of: dict[int, int] = {}
        self.adjustments: list[Row] = []
        self.commlogs: list[Row] = []
        self.payplans: list[Row] = []
        self.claims: list[Row] = []
        self.claimprocs: list[Row] = []
        self.claimpayments: list[Row] = []
        # ClaimNum -> carrier name (the insplan/carrier tables are not simulated)
        self.claim_carriers: dict[int, str] = {}
        # Pref ClaimPaymentBatchOnly: when set, POST /claimpayments is refused.
        self.claim_payment_batch_only = False
        self._post_counts: Counter[str] = Counter()
        self._put_counts: Counter[str] = Counter()
        self._last_call: dict[str, float] = {}
        self._next_id: Counter[str] = Counter()
        # Notes, tasks and documents (see the section "notes, tasks and documents").
        self.patient_notes: dict[int, Row] = {}
        self.tasks: list[Row] = []
        self.tasknotes: list[Row] = []
        self.documents: list[Row] = []
        # DocNum -> the uploaded file's bytes
        self.document_bytes: dict[int, bytes] = {}
        # Appointments (see the section "appointments, pictures").
        self.appointments: list[Row] = []
        # DateTStamp filters rows changed at or after the given second; True plays a server
        # that answers only rows changed strictly after it (which Open Dental's wording
        # "altered after" could also mean), to show the client's overlap window at work.
        self.stamp_filter_exclusive = False
        self._seed()

    def _seed(self) -> None:
        for category, name, value, hidden in seed.DEFINITIONS:
            self.add_definition(category, name, value, hidden=hidden)
        # Pref ApiPaymentType: the type used when a POST /payments names none.
        self.api_payment_type = next(
            d["DefNum"] for d in self.definitions if d["ItemName"] == seed.API_PAYMENT_TYPE_NAME
        )
        for abbr, fname, lname, hidden, deleted, hygienist in seed.PROVIDERS:
            self.add_provider(
                abbr, fname, lname, hidden=hidden, deleted=deleted, hygienist=hygienist
            )
        for lname, fname, birthdate, pri_prov in seed.PATIENTS:
            self.add_patient(
                lname, fname, birthdate=date.fromisoformat(birthdate), pri_prov=pri_prov
            )
        for pat_num, pay_amt, principal in seed.PAYPLANS:
            self.add_payplan(pat_num, pay_amt=Decimal(pay_amt), principal=Decimal(principal))
        for descript in seed.TASKS:
            self.add_task(descript)
        for pat_num, procs in seed.CLAIMS:
            self.add_claim(
                pat_num,
                [Decimal(estimate) for _, _, estimate in procs],
                fees=[Decimal(fee) for _, fee, _ in procs],
                codes=[code for code, _, _ in procs],
            )
        self._seed_appointments()

    def _new_id(self, table: str) -> int:
        self._next_id[table] += 1
        return self._next_id[table]

    # ------------------------------------------------------------------ time, keys, throttle

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def today(self) -> date:
        return self.now().date()

    def server_date_time(self) -> str:
        return fmt_datetime(self.now())

    def add_customer_key(self, key: str, *, enabled: bool = True) -> None:
        self.customer_keys[key] = enabled

    def disable_customer_key(self, key: str) -> None:
        self.customer_keys[key] = False

    def admit(self, customer_key: str) -> float | None:
        """Record a call of `customer_key`; return the seconds left if it came too early."""
        now = time.monotonic()
        last = self._last_call.get(customer_key)
        if last is not None and now - last < self.throttle_interval_seconds:
            return self.throttle_interval_seconds - (now - last)
        self._last_call[customer_key] = now
        return None

    # ------------------------------------------------------------------ counters and pauses

    def count_post(self, resource: str) -> None:
        self._post_counts[resource] += 1

    def post_count(self, resource: str) -> int:
        """POST requests received for `resource` ("payments", "adjustments", "commlogs"),
        whatever their outcome: also refused, throttled and fault-injected ones."""
        return self._post_counts[resource]

    def post_counts(self) -> dict[str, int]:
        return dict(self._post_counts)

    def count_put(self, resource: str) -> None:
        self._put_counts[resource] += 1

    def put_count(self, resource: str) -> int:
        """PUT requests received for `resource` ("payments", "claimprocs", "claims"), whatever
        their outcome, like post_count."""
        return self._put_counts[resource]

    def put_counts(self) -> dict[str, int]:
        return dict(self._put_counts)

    async def pause(self, seconds: float) -> bool:
        """Sleep for a latency or hang fault; return True if `reset()` cut it short.

        A call cut short must not touch the state again: it belongs to a finished test.
        """
        if seconds <= 0:
            return False
        release = self._release
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), timeout=seconds)
        return release.is_set()

    def run_later(self, seconds: float, write: Callable[[], object]) -> None:
        """Apply `write` after `seconds` unless `reset()` comes first (late-commit fault)."""

        async def later() -> None:
            if await self.pause(seconds):
                return
            with contextlib.suppress(Exception):
                write()

        task = asyncio.get_running_loop().create_task(later())
        self._late_writes.add(task)
        task.add_done_callback(self._late_writes.discard)

    def release_pauses(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    def reset_faults(self) -> None:
        """Switch every fault off and end calls held by latency or hang faults."""
        self.faults.clear()
        self.release_pauses()

    # ------------------------------------------------------------------ lookups

    def definition(self, def_num: int, category: int) -> Row | None:
        for row in self.definitions:
            if row["DefNum"] == def_num and row["Category"] == category:
                return row
        return None

    def provider(self, prov_num: int) -> Row | None:
        return next((p for p in self.providers if p["ProvNum"] == prov_num), None)

    def payment(self, pay_num: int) -> Row | None:
        return next((p for p in self.payments if p["PayNum"] == pay_num), None)

    def splits_of(self, pay_num: int) -> list[Row]:
        return [s for s in self.paysplits if s["PayNum"] == pay_num]

    def refunds_of(self, pay_num: int) -> list[Row]:
        """Refund payments made of `pay_num` through POST /payments/Refund."""
        return [p for p in self.payments if self.refund_of.get(p["PayNum"]) == pay_num]

    def payplan(self, pay_plan_num: int) -> Row | None:
        return next((p for p in self.payplans if p["PayPlanNum"] == pay_plan_num), None)

    def claim(self, claim_num: int) -> Row | None:
        return next((c for c in self.claims if c["ClaimNum"] == claim_num), None)

    def claimproc(self, claim_proc_num: int) -> Row | None:
        return next((c for c in self.claimprocs if c["ClaimProcNum"] == claim_proc_num), None)

    def claimprocs_of(self, claim_num: int) -> list[Row]:
        return [c for c in self.claimprocs if c["ClaimNum"] == claim_num]

    def first_definition(self, category: int) -> Row | None:
        """The first visible definition of `category` (Open Dental's default for optional types)."""
        visible = [d for d in self.definitions if d["Category"] == category]
        visible = [d for d in visible if d["isHidden"] == "false"]
        return min(visible, key=lambda d: int(d["ItemOrder"]), default=None)

    # ------------------------------------------------------------------ setup rows

    def add_definition(
        self, category: int, item_name: str, item_value: str = "", *, hidden: bool = False
    ) -> int:
        def_num = self._new_id("definition")
        order = sum(1 for d in self.definitions if d["Category"] == category)
        self.definitions.append(
            {
                "DefNum": def_num,
                "Category": category,
                "category": seed.CATEGORY_NAMES.get(category, str(category)),
                "ItemOrder": order,
                "ItemName": item_name,
                "ItemValue": item_value,
                "ItemColor": 0,
                "isHidden": od_bool(hidden),
            }
        )
        return def_num

    def add_provider(
        self,
        abbr: str,
        f_name: str,
        l_name: str,
        *,
        hidden: bool = False,
        deleted: bool = False,
        hygienist: bool = False,
    ) -> int:
        prov_num = self._new_id("provider")
        self.providers.append(
            {
                "ProvNum": prov_num,
                "Abbr": abbr,
                "LName": l_name,
                "FName": f_name,
                "MI": "",
                "Suffix": "",
                "FeeSched": 1,
                "IsSecondary": od_bool(hygienist),
                "IsHidden": od_bool(hidden),
                "NationalProvID": "",
                "DateTStamp": self.server_date_time(),
                "IsNotPerson": "false",
                "ProvStatus": "Deleted" if deleted else "Active",
                "IsHiddenReport": "false",
                "PreferredName": "",
            }
        )
        return prov_num

    def add_patient(
        self,
        l_name: str,
        f_name: str,
        *,
        birthdate: date | None = None,
        pri_prov: int = 1,
        clinic_num: int = 0,
        pat_status: str = "Patient",
        pat_num: int | None = None,
    ) -> int:
        if pat_num is None:
            pat_num = max(self.patients, default=0) + 1
        provider = self.provider(pri_prov)
        self.patients[pat_num] = {
            "PatNum": pat_num,
            "LName": l_name,
            "FName": f_name,
            "MiddleI": "",
            "Preferred": "",
            "PatStatus": pat_status,
            "Gender": "Unknown",
            "Position": "Single",
            "Birthdate": fmt_date(birthdate) if birthdate else MIN_DATE,
            "Address": "",
            "City": "",
            "State": "",
            "Zip": "",
            "HmPhone": "",
            "WirelessPhone": "",
            "Email": "",
            "Guarantor": pat_num,
            "PriProv": pri_prov,
            "priProvAbbr": provider["Abbr"] if provider else "",
            "SecProv": 0,
            "secProvAbbr": "",
            "ClinicNum": clinic_num,
            "ChartNumber": "",
            "DateFirstVisit": MIN_DATE,
            "DateTStamp": self.server_date_time(),
        }
        return pat_num

    def touch_patient(self, pat_num: int) -> None:
        """Mark a patient as changed now (for DateTStamp polling)."""
        self.patients[pat_num]["DateTStamp"] = self.server_date_time()

    # ------------------------------------------------------------------ ledger rows

    def add_payment(
        self,
        pat_num: int,
        amount: Decimal,
        *,
        pay_type: int | None = None,
        pay_date: date | None = None,
        pay_note: str = "",
        check_num: str = "",
        bank_branch: str = "",
        clinic_num: int | None = None,
        date_entry: date | None = None,
        payment_source: str = "None",
        pay_plan_num: int = 0,
        split_amounts: Sequence[Decimal] | None = None,
    ) -> Row:
        """Store a payment row and its paysplits directly (the API path validates first, then
        calls this).

        One split of the whole amount unless `split_amounts` (which must add up to `amount`)
        says otherwise, e.g. [50, -50] for an income-transfer-like payment. Open Dental's
        allocation to procedures is not simulated: splits carry ProcNum 0.
        """
        splits = [amount] if split_amounts is None else list(split_amounts)
        if sum(splits, Decimal(0)) != amount:
            raise ValueError("split amounts must add up to the payment amount")
        type_num = self.api_payment_type if pay_type is None else pay_type
        type_def = self.definition(type_num, seed.PAYMENT_TYPES)
        row: Row = {
            "PayNum": self._new_id("payment"),
            "PayType": type_num,
            "payType": type_def["ItemName"] if type_def else "",
            "PayDate": fmt_date(pay_date or self.today()),
            "PayAmt": amount,
            "CheckNum": check_num,
            "BankBranch": bank_branch,
            "PayNote": pay_note,
            "PatNum": pat_num,
            "ClinicNum": self._clinic_of(pat_num) if clinic_num is None else clinic_num,
            "DateEntry": fmt_date(date_entry or self.today()),
            "DepositNum": 0,
            "Receipt": "",
            "IsRecurringCC": "false",
            "SecUserNumEntry": 0,
            "SecDateTEdit": self.server_date_time(),
            "PaymentSource": payment_source,
            "ProcessStatus": "OfficeProcessed",
            "RecurringChargeDate": MIN_DATE,
            "ExternalId": "",
            "PaymentStatus": "None",
            "IsCcCompleted": "false",
            "MerchantFee": 0,
        }
        self.payments.append(row)
        for split_amount in splits:
            self._add_paysplit(row, split_amount, pay_plan_num=pay_plan_num)
        return row

    def _add_paysplit(self, payment: Row, amount: Decimal, *, pay_plan_num: int = 0) -> Row:
        pat_num = int(payment["PatNum"])
        patient = self.patients.get(pat_num)
        split: Row = {
            "SplitNum": self._new_id("paysplit"),
            "SplitAmt": amount,
            "PatNum": pat_num,
            "PayNum": payment["PayNum"],
            # The patient's primary provider: pref RigorousAccounting = DontEnforce.
            "ProvNum": patient["PriProv"] if patient else 0,
            "PayPlanNum": pay_plan_num,
            "DatePay": payment["PayDate"],
            "ProcNum": 0,
            "DateEntry": payment["DateEntry"],
            "UnearnedType": 0,
            "unearnedType": "",
            "ClinicNum": payment["ClinicNum"],
            "SecDateTEdit": self.server_date_time(),
            "AdjNum": 0,
            "PayPlanChargeNum": 0,
            "PayPlanDebitType": "Principal" if pay_plan_num else "Unknown",
        }
        self.paysplits.append(split)
        return split

    def add_refund(self, original: Row) -> Row:
        """The negative payment POST /payments/Refund makes of `original` (rules checked by the
        caller). As in Open Dental's documented example it copies the original's type, check
        number, bank branch and note; PaymentSource is "None"."""
        row = self.add_payment(
            int(original["PatNum"]),
            -Decimal(original["PayAmt"]),
            pay_type=int(original["PayType"]),
            pay_note=str(original["PayNote"]),
            check_num=str(original["CheckNum"]),
            bank_branch=str(original["BankBranch"]),
            clinic_num=int(original["ClinicNum"]),
            split_amounts=[-Decimal(s["SplitAmt"]) for s in self.splits_of(original["PayNum"])],
        )
        self.refund_of[int(row["PayNum"])] = int(original["PayNum"])
        return row

    def add_adjustment(
        self,
        pat_num: int,
        adj_type: int,
        amount: Decimal,
        *,
        adj_date: date | None = None,
        prov_num: int | None = None,
        adj_note: str = "",
        clinic_num: int | None = None,
    ) -> Row:
        patient = self.patients[pat_num]
        type_def = self.definition(adj_type, seed.ADJ_TYPES)
        row: Row = {
            "AdjNum": self._new_id("adjustment"),
            "AdjDate": fmt_date(adj_date or self.today()),
            "AdjAmt": amount,
            "PatNum": pat_num,
            "AdjType": adj_type,
            "adjType": type_def["ItemName"] if type_def else "",
            "ProvNum": patient["PriProv"] if prov_num is None else prov_num,
            "AdjNote": adj_note,
            "ProcDate": MIN_DATE,
            "ProcNum": 0,
            "DateEntry": fmt_date(self.today()),
            "ClinicNum": patient["ClinicNum"] if clinic_num is None else clinic_num,
            "StatementNum": 0,
            "SecUserNumEntry": 0,
            "SecDateTEdit": self.server_date_time(),
            "TaxTransID": 0,
        }
        self.adjustments.append(row)
        return row

    def add_commlog(
        self,
        pat_num: int,
        note: str,
        *,
        comm_type: int,
        comm_date_time: datetime | None = None,
        mode: str = "Phone",
        sent_or_received: str = "Sent",
    ) -> Row:
        type_def = self.definition(comm_type, seed.COMMLOG_TYPES)
        stamp = self.server_date_time()
        row: Row = {
            "CommlogNum": self._new_id("commlog"),
            "PatNum": pat_num,
            "CommDateTime": fmt_datetime(comm_date_time or self.now()),
            "CommType": comm_type,
            "commType": type_def["ItemName"] if type_def else "",
            "Note": note,
            "Mode_": mode,
            "SentOrReceived": sent_or_received,
            "UserNum": 0,
            "Signature": "",
            "SigIsTopaz": "false",
            "DateTStamp": stamp,
            "DateTimeEnd": MIN_DATETIME,
            "CommSource": "User",
            "ProgramNum": 0,
            "DateTEntry": stamp,
            "ReferralNum": 0,
        }
        self.commlogs.append(row)
        return row

    # ------------------------------------------------------------------ payment plans

    def add_payplan(
        self,
        pat_num: int,
        *,
        guarantor: int | None = None,
        pay_amt: Decimal = Decimal("50.00"),
        principal: Decimal = Decimal("600.00"),
        apr: Decimal = Decimal("0"),
        is_closed: bool = False,
        is_dynamic: bool = True,
        pay_plan_date: date | None = None,
    ) -> int:
        """Store a payment plan; dynamic unless `is_dynamic` is False (an "Old" patient plan)."""
        plan_date = pay_plan_date or self.today()
        day = plan_date.strftime("%m/%d/%Y")
        pay_plan_num = self._new_id("payplan")
        self.payplans.append(
            {
                "PayPlanNum": pay_plan_num,
                "PatNum": pat_num,
                "Guarantor": pat_num if guarantor is None else guarantor,
                "PayPlanDate": fmt_date(plan_date),
                "APR": apr,
                # The terms Open Dental writes into the note of a new plan.
                "Note": (
                    f"{day} - Date of Agreement: {day}, Total Amount: {principal:.2f}, "
                    f"APR: {apr}, Total Cost of Loan: {principal:.2f}"
                ),
                "PlanNum": 0,
                "CompletedAmt": principal if is_dynamic else Decimal("0"),
                "InsSubNum": 0,
                "PaySchedule": "Monthly",
                "NumberOfPayments": 0,
                "PayAmt": pay_amt,
                "DownPayment": Decimal("0"),
                "IsClosed": od_bool(is_closed),
                "PlanCategory": 0,
                "planCategory": "",
                "IsDynamic": od_bool(is_dynamic),
                "ChargeFrequency": "Monthly",
                "DatePayPlanStart": fmt_date(plan_date + timedelta(days=30)),
                "IsLocked": "false",
                "DateInterestStart": MIN_DATE,
                "DynamicPayPlanTPOption": "AwaitComplete" if is_dynamic else "None",
                "principalAmount": principal,
                "SheetDefNum": 0,
            }
        )
        return pay_plan_num

    # ------------------------------------------------------------------ claims

    def add_claim(
        self,
        pat_num: int,
        amounts: Sequence[Decimal],
        *,
        fees: Sequence[Decimal] | None = None,
        codes: Sequence[str] | None = None,
        claim_status: str = "S",
        claim_type: str = "P",
        carrier_name: str = seed.CARRIER_NAME,
    ) -> int:
        """A sent claim with one NotReceived claimproc per estimate in `amounts` (InsPayEst);
        FeeBilled defaults to the estimate. Returns the ClaimNum."""
        fee_list = list(amounts) if fees is None else list(fees)
        code_list = [f"D{1000 + n}" for n in range(len(amounts))] if codes is None else list(codes)
        if not (len(fee_list) == len(code_list) == len(amounts)):
            raise ValueError("amounts, fees and codes must have the same length")
        patient = self.patients[pat_num]
        claim_num = self._new_id("claim")
        zero = Decimal("0.00")
        today = fmt_date(self.today())
        self.claims.append(
            {
                "ClaimNum": claim_num,
                "PatNum": pat_num,
                "DateService": today,
                "DateSent": today,
                "ClaimStatus": claim_status,
                "DateReceived": MIN_DATE,
                "PlanNum": 1,
                "ProvTreat": patient["PriProv"],
                "ClaimFee": sum(fee_list, zero),
                "InsPayEst": sum(amounts, zero),
                "InsPayAmt": zero,
                "DedApplied": zero,
                "IsProsthesis": "N",
                "PriorDate": MIN_DATE,
                "ReasonUnderPaid": "",
                "ClaimNote": "",
                "ClaimType": claim_type,
                "ProvBill": patient["PriProv"],
                "PlaceService": "Office",
                "AccidentRelated": "",
                "AccidentDate": MIN_DATE,
                "AccidentST": "",
                "IsOrtho": "False",
                "OrthoRemainM": 0,
                "OrthoDate": MIN_DATE,
                "PatRelat": "Self",
                "PlanNum2": 0,
                "PatRelat2": "Self",
                "WriteOff": zero,
                "ClaimForm": "0",
                "InsSubNum": 1,
                "InsSubNum2": 0,
                "PriorAuthorizationNumber": "",
                "CustomTracking": 0,
                "customTracking": "",
                "OrthoTotalM": 0,
                "SecDateTEdit": self.server_date_time(),
            }
        )
        self.claim_carriers[claim_num] = carrier_name
        for estimate, fee, code in zip(amounts, fee_list, code_list, strict=True):
            self._add_claimproc(claim_num, patient, estimate, fee, code)
        return claim_num

    def _add_claimproc(
        self, claim_num: int, patient: Row, estimate: Decimal, fee: Decimal, code: str
    ) -> None:
        none = Decimal("-1")  # Open Dental's "no override"
        zero = Decimal("0.00")
        self.claimprocs.append(
            {
                "ClaimProcNum": self._new_id("claimproc"),
                "ProcNum": self._new_id("procedurelog"),
                "ClaimNum": claim_num,
                "PatNum": patient["PatNum"],
                "ProvNum": patient["PriProv"],
                "FeeBilled": fee,
                "InsPayEst": estimate,
                "DedApplied": zero,
                "Status": "NotReceived",
                "InsPayAmt": zero,
                "Remarks": "",
                "ClaimPaymentNum": 0,
                "PlanNum": 1,
                "DateCP": MIN_DATE,
                "WriteOff": zero,
                "CodeSent": code,
                "AllowedOverride": none,
                "Percentage": 80,
                "PercentOverride": -1,
                "CopayAmt": none,
                "NoBillIns": "false",
                "PaidOtherIns": zero,
                "BaseEst": estimate,
                "CopayOverride": none,
                "ProcDate": fmt_date(self.today()),
                "DateEntry": MIN_DATE,
                "DedEst": zero,
                "DedEstOverride": none,
                "InsEstTotal": estimate,
                "InsEstTotalOverride": none,
                "PaidOtherInsOverride": none,
                "EstimateNote": "",
                "WriteOffEst": none,
                "WriteOffEstOverride": none,
                "ClinicNum": patient["ClinicNum"],
                "InsSubNum": 1,
                "PaymentRow": 0,
                "PayPlanNum": 0,
                "ClaimPaymentTracking": 0,
                "claimPaymentTracking": "",
                "SecUserNumEntry": 0,
                "SecDateEntry": fmt_date(self.today()),
                "SecDateTEdit": self.server_date_time(),
                "DateSuppReceived": MIN_DATE,
                "DateInsFinalized": MIN_DATE,
                "IsTransfer": "false",
                "ClaimAdjReasonCodes": "",
            }
        )

    def add_claimpayment(
        self,
        claim_num: int,
        check_amt: Decimal,
        *,
        pay_type: int,
        pay_group: int,
        check_date: date | None = None,
        check_num: str = "",
        bank_branch: str = "",
        note: str = "",
        clinic_num: int | None = None,
        carrier_name: str | None = None,
        date_issued: date | None = None,
    ) -> Row:
        """Store a claim payment and attach the claim's received, unattached claimprocs."""
        claim = self.claim(claim_num)
        if claim is None:
            raise KeyError(claim_num)
        type_def = self.definition(pay_type, seed.INSURANCE_PAYMENT_TYPES)
        group_def = self.definition(pay_group, seed.CLAIM_PAYMENT_GROUPS)
        stamp = self.server_date_time()
        if clinic_num is None:
            clinic_num = self._clinic_of(int(claim["PatNum"]))
        row: Row = {
            "ClaimPaymentNum": self._new_id("claimpayment"),
            "CheckDate": fmt_date(check_date or self.today()),
            "CheckAmt": check_amt,
            "CheckNum": check_num,
            "BankBranch": bank_branch,
            "Note": note,
            "ClinicNum": clinic_num,
            "DepositNum": 0,
            "CarrierName": (
                self.claim_carriers.get(claim_num, "") if carrier_name is None else carrier_name
            ),
            "DateIssued": fmt_date(date_issued) if date_issued else MIN_DATE,
            "IsPartial": "false",
            "PayType": pay_type,
            "payType": type_def["ItemName"] if type_def else "",
            "SecUserNumEntry": 0,
            "SecDateEntry": fmt_date(self.today()),
            "SecDateTEdit": stamp,
            "PayGroup": pay_group,
            "payGroup": group_def["ItemName"] if group_def else "",
        }
        self.claimpayments.append(row)
        for proc in self.claimprocs_of(claim_num):
            if proc["ClaimPaymentNum"] == 0 and proc["Status"] in RECEIVED_STATUSES:
                proc["ClaimPaymentNum"] = row["ClaimPaymentNum"]
                proc["DateInsFinalized"] = fmt_date(self.today())
                proc["SecDateTEdit"] = stamp
        return row

    # ------------------------------------------------------------------ notes, tasks and documents

    def patient_note(self, pat_num: int) -> Row:
        """The patient's patientnote row (Open Dental keeps one per patient, made on demand)."""
        note = self.patient_notes.get(pat_num)
        if note is None:
            note = {
                "PatNum": pat_num,
                **dict.fromkeys(PATIENT_NOTE_FIELDS, ""),
                "SecDateTEdit": self.server_date_time(),
            }
            self.patient_notes[pat_num] = note
        return note

    def add_task(self, descript: str, *, task_list_num: int = 1, pat_num: int = 0) -> Row:
        row: Row = {
            "TaskNum": self._new_id("task"),
            "TaskListNum": task_list_num,
            "Descript": descript,
            "KeyNum": pat_num,
            "ObjectType": "Patient" if pat_num else "None",
            "TaskStatus": "New",
            "DateTimeEntry": self.server_date_time(),
        }
        self.tasks.append(row)
        return row

    def task(self, task_num: int) -> Row | None:
        return next((t for t in self.tasks if t["TaskNum"] == task_num), None)

    def add_tasknote(self, task_num: int, note: str, *, user_num: int = 0) -> Row:
        row: Row = {
            "TaskNoteNum": self._new_id("tasknote"),
            "TaskNum": task_num,
            "UserNum": user_num,
            "DateTimeNote": self.server_date_time(),
            "Note": note,
        }
        self.tasknotes.append(row)
        return row

    def add_document(
        self,
        pat_num: int,
        content: bytes,
        *,
        extension: str,
        doc_category: int,
        description: str = "",
        date_created: datetime | None = None,
        img_type: str = "Document",
        prov_num: int = 0,
    ) -> Row:
        doc_num = self._new_id("document")
        category = self.definition(doc_category, seed.IMAGE_CATS)
        row: Row = {
            "DocNum": doc_num,
            "MountNum": 0,
            "PatNum": pat_num,
            "Description": description,
            "DateCreated": fmt_datetime(date_created or self.now()),
            "DocCategory": doc_category,
            "docCategory": category["ItemName"] if category else "",
            "FileName": f"{description[:20].strip() or 'upload'}{doc_num}{extension}",
            "ImgType": img_type,
            "ToothNumbers": "",
            "ProvNum": prov_num,
            "DateTStamp": self.server_date_time(),
            "filePath": "",
            "serverDateTime": self.server_date_time(),
        }
        self.documents.append(row)
        self.document_bytes[doc_num] = content
        return row

    # ------------------------------------------------------------------ appointments, pictures

    def _seed_appointments(self) -> None:
        today = self.today()
        for pat_num, at, label in seed.APPOINTMENTS:
            start = datetime.combine(today, datetime.strptime(at, "%H:%M").time())
            self.add_appointment(pat_num, start, confirmed=label)

    def appointment(self, apt_num: int) -> Row:
        return next(a for a in self.appointments if a["AptNum"] == apt_num)

    def add_appointment(
        self,
        pat_num: int,
        start: datetime,
        *,
        pattern: str = "//XXXX//",
        status: str = "Scheduled",
        op: int = 1,
        prov_num: int | None = None,
        confirmed: str = "Unconfirmed",
        clinic_num: int | None = None,
        note: str = "",
    ) -> Row:
        """An appointment as GET /appointments returns it; `confirmed` is the ApptConfirmed
        definition's name."""
        patient = self.patients[pat_num]
        prov = int(patient["PriProv"]) if prov_num is None else prov_num
        provider = self.provider(prov)
        confirmation = self._confirmation(confirmed)
        stamp = self.server_date_time()
        row: Row = {
            "AptNum": self._new_id("appointment"),
            "PatNum": pat_num,
            "AptStatus": status,
            "Pattern": pattern,
            "Confirmed": confirmation["DefNum"],
            "confirmed": confirmation["ItemName"],
            "TimeLocked": "false",
            "Op": op,
            "Note": note,
            "ProvNum": prov,
            "provAbbr": provider["Abbr"] if provider else "",
            "ProvHyg": 0,
            "AptDateTime": fmt_datetime(start),
            "NextAptNum": 0,
            "UnschedStatus": 0,
            "unschedStatus": "",
            "IsNewPatient": "false",
            "ProcDescript": "",
            "Assistant": 0,
            "ClinicNum": int(patient["ClinicNum"]) if clinic_num is None else clinic_num,
            "IsHygiene": "false",
            "DateTStamp": stamp,
            "DateTimeArrived": MIN_DATETIME,
            "DateTimeSeated": MIN_DATETIME,
            "DateTimeDismissed": MIN_DATETIME,
            "InsPlan1": 0,
            "InsPlan2": 0,
            "DateTimeAskedToArrive": MIN_DATETIME,
            "colorOverride": "0,0,0",
            "AppointmentTypeNum": 0,
            "SecUserNumEntry": 0,
            "SecDateTEntry": stamp,
            "Priority": "Normal",
            "PatternSecondary": "",
            "ItemOrderPlanned": 0,
        }
        self.appointments.append(row)
        return row

    def set_confirmation(self, apt_num: int, label: str) -> Row:
        """What staff setting the confirmation status does: when it is one of the office's
        time triggers (prefs AppointmentTime{Arrived,Seated,Dismissed}Trigger), Open Dental
        also stamps the matching time with now ([repo] Appointments.SetConfirmed)."""
        row = self.appointment(apt_num)
        confirmation = self._confirmation(label)
        row["Confirmed"] = confirmation["DefNum"]
        row["confirmed"] = confirmation["ItemName"]
        column = seed.FLOW_TRIGGERS.get(label)
        if column is not None:
            row[column] = self.server_date_time()
        self.touch_appointment(apt_num)
        return row

    def set_appointment_status(self, apt_num: int, status: str) -> Row:
        row = self.appointment(apt_num)
        row["AptStatus"] = status
        self.touch_appointment(apt_num)
        return row

    def touch_appointment(self, apt_num: int) -> None:
        self.appointment(apt_num)["DateTStamp"] = self.server_date_time()

    def _confirmation(self, label: str) -> Row:
        found = next(
            (
                d
                for d in self.definitions
                if d["Category"] == seed.APPT_CONFIRMED and d["ItemName"] == label
            ),
            None,
        )
        if found is None:
            raise KeyError(f"no ApptConfirmed definition named {label!r}")
        return found

    def picture_category(self) -> int:
        """The image category flagged "P" (Show in Patient Pictures)."""
        return int(
            next(
                d["DefNum"]
                for d in self.definitions
                if d["Category"] == seed.IMAGE_CATS and "P" in d["ItemValue"]
            )
        )

    def add_patient_picture(
        self,
        pat_num: int,
        content: bytes,
        *,
        extension: str = ".jpg",
        taken: datetime | None = None,
    ) -> Row:
        """A photo filed in the patient picture category (what Open Dental shows as the
        patient's picture: the newest there)."""
        return self.add_document(
            pat_num,
            content,
            extension=extension,
            doc_category=self.picture_category(),
            description="Patient picture",
            date_created=taken,
            img_type="Photo",
        )

    def _clinic_of(self, pat_num: int) -> int:
        patient = self.patients.get(pat_num)
        return int(patient["ClinicNum"]) if patient else 0
