"""GET handlers. List handlers return all matching rows; paging happens in app.py."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from connectors.opendental.simulator.fields import (
    ApiError,
    as_bool,
    as_date,
    as_datetime,
    as_int,
    fmt_date,
    fmt_datetime,
    invalid,
    require,
)
from connectors.opendental.simulator.state import Row, SimulatorState


def _filter(rows: list[Row], *tests: Callable[[Row], bool]) -> list[Row]:
    return [row for row in rows if all(test(row) for test in tests)]


def _equals(column: str, value: object) -> Callable[[Row], bool]:
    return lambda row: row[column] == value


def _stamp_filter(request: Request, column: str) -> Callable[[Row], bool]:
    return stamp_filter(request, column)


def stamp_filter(
    request: Request, column: str, *, exclusive: bool = False
) -> Callable[[Row], bool]:
    """DateTStamp: rows changed at or after the given time.

    Inclusive on purpose: stamps have 1 s resolution, so a client re-reading the boundary
    second and de-duplicating by key loses nothing. `exclusive` plays a server that answers
    only rows changed strictly after it (SimulatorState.stamp_filter_exclusive).
    """
    value = request.query_params.get("DateTStamp")
    if value is None:
        return lambda row: True
    since = fmt_datetime(as_datetime(value, "DateTStamp"))
    if exclusive:
        return lambda row: str(row[column]) > since
    return lambda row: str(row[column]) >= since


def list_payments(state: SimulatorState, request: Request) -> list[Row]:
    query = request.query_params
    tests: list[Callable[[Row], bool]] = []
    if "PatNum" in query:
        pat_num = as_int(query["PatNum"], "PatNum")
        tests.append(lambda row: row["PatNum"] == pat_num)
    if "PayType" in query:
        pay_type = as_int(query["PayType"], "PayType")
        tests.append(lambda row: row["PayType"] == pay_type)
    if "DateEntry" in query:
        since = fmt_date(as_date(query["DateEntry"], "DateEntry"))
        tests.append(lambda row: row["DateEntry"] >= since)
    return _filter(state.payments, *tests)


def list_definitions(state: SimulatorState, request: Request) -> list[Row]:
    query = request.query_params
    tests: list[Callable[[Row], bool]] = []
    if "Category" in query:
        category = as_int(query["Category"], "Category")
        tests.append(lambda row: row["Category"] == category)
    if not as_bool(query.get("includeHidden", "false"), "includeHidden"):
        tests.append(lambda row: row["isHidden"] == "false")
    rows = _filter(state.definitions, *tests)
    return sorted(rows, key=lambda row: (row["Category"], row["ItemOrder"]))


def list_providers(state: SimulatorState, request: Request) -> list[Row]:
    tests = [_stamp_filter(request, "DateTStamp")]
    if "ClinicNum" in request.query_params:
        # Open Dental returns only non-hidden providers when filtering by clinic.
        as_int(request.query_params["ClinicNum"], "ClinicNum")
        tests.append(lambda row: row["IsHidden"] == "false")
    return _filter(state.providers, *tests)


def get_patient(state: SimulatorState, request: Request) -> Row:
    pat_num = as_int(request.path_params["pat_num"], "PatNum")
    patient = state.patients.get(pat_num)
    if patient is None:
        raise ApiError(404, "Patient not found.")
    return patient


def list_patients_simple(state: SimulatorState, request: Request) -> list[Row]:
    rows = sorted(state.patients.values(), key=lambda row: int(row["PatNum"]))
    return _filter(
        rows, stamp_filter(request, "DateTStamp", exclusive=state.stamp_filter_exclusive)
    )


def list_adjustments(state: SimulatorState, request: Request) -> list[Row]:
    query = request.query_params
    pat_num = as_int(require(query, "PatNum"), "PatNum")
    tests: list[Callable[[Row], bool]] = [lambda row: row["PatNum"] == pat_num]
    if "AdjType" in query:
        adj_type = as_int(query["AdjType"], "AdjType")
        tests.append(lambda row: row["AdjType"] == adj_type)
    return _filter(state.adjustments, *tests)


def list_paysplits(state: SimulatorState, request: Request) -> list[Row]:
    """GET /paysplits (22.4.16; PatNum and PayNum optional since 24.4.24, ProcNum 24.4.24)."""
    query = request.query_params
    tests: list[Callable[[Row], bool]] = []
    for name in ("PatNum", "PayNum", "ProcNum"):
        if name in query:
            tests.append(_equals(name, as_int(query[name], name)))
    return _filter(state.paysplits, *tests)


def list_payplans(state: SimulatorState, request: Request) -> list[Row]:
    """GET /payplans (22.2.16): the plans of a patient (PatNum) or guarantor (Guarantor)."""
    query = request.query_params
    if "PatNum" not in query and "Guarantor" not in query:
        raise ApiError(400, "PatNum or Guarantor is required.")
    tests: list[Callable[[Row], bool]] = []
    for name in ("PatNum", "Guarantor"):
        if name in query:
            pat_num = as_int(query[name], name)
            if pat_num not in state.patients:
                raise ApiError(404, "Patient or Guarantor not found.")
            tests.append(_equals(name, pat_num))
    return _filter(state.payplans, *tests)


def list_commlogs(state: SimulatorState, request: Request) -> list[Row]:
    query = request.query_params
    tests = [_stamp_filter(request, "DateTStamp")]
    if "PatNum" in query:
        pat_num = as_int(query["PatNum"], "PatNum")
        if pat_num not in state.patients:
            raise invalid("PatNum")
        tests.append(lambda row: row["PatNum"] == pat_num)
    return _filter(state.commlogs, *tests)
