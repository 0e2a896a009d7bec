"""In-memory Open Dental office: rows as the API returns them, keys, throttle and faults."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
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
        self.adjustments: list[Row] = []
        self.commlogs: list[Row] = []
        self._post_counts: Counter[str] = Counter()
        self._last_call: dict[str, float] = {}
        self._next_id: Counter[str] = Counter()
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
    ) -> Row:
        """Store a payment row directly (the API path validates first, then calls this)."""
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
        row: Row = {
            "AdjNum": self._new_id("adjustment"),
            "AdjDate": fmt_date(adj_date or self.today()),
            "AdjAmt": amount,
            "PatNum": pat_num,
            "AdjType": adj_type,
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

    def _clinic_of(self, pat_num: int) -> int:
        patient = self.patients.get(pat_num)
        return int(patient["ClinicNum"]) if patient else 0
