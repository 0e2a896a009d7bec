"""Appointments and patient pictures, as Open Dental's API documents them.

- GET /appointments (21.1): optional PatNum, AptStatus, Op, ClinicNum, `date` or
  `dateStart`+`dateEnd` (inclusive, on AptDateTime's date) and DateTStamp; paged in app.py.
  Combining DateTStamp with a date range is documented as allowed (every filter is
  optional); how Open Dental orders rows is not documented (here: by AptNum).
- GET /documents/{DocNum} (24.2.32): the document row. `RawBase64` carries the file for
  offices storing images in the database; that the API returns it is UNCONFIRMED (Open
  Dental documents no binary download but POST /documents/DownloadSftp). The simulator
  plays a database-storage office and always fills it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from starlette.requests import Request

from connectors.opendental.simulator.fields import ApiError, as_date, as_int, fmt_date
from connectors.opendental.simulator.reads import stamp_filter
from connectors.opendental.simulator.state import Row, SimulatorState

APPOINTMENT_STATUSES = frozenset(
    {
        "Scheduled",
        "Complete",
        "UnschedList",
        "ASAP",
        "Broken",
        "Planned",
        "PtNote",
        "PtNoteCompleted",
    }
)


def list_appointments(state: SimulatorState, request: Request) -> list[Row]:
    query = request.query_params
    tests: list[Callable[[Row], bool]] = [
        stamp_filter(request, "DateTStamp", exclusive=state.stamp_filter_exclusive)
    ]
    for name in ("PatNum", "Op", "ClinicNum"):
        if name in query:
            tests.append(_equals(name, as_int(query[name], name)))
    if "AptStatus" in query:
        status = query["AptStatus"]
        if status not in APPOINTMENT_STATUSES:
            raise ApiError(400, "AptStatus is invalid.")
        tests.append(lambda row: row["AptStatus"] == status)
    if "date" in query:
        day = fmt_date(as_date(query["date"], "date"))
        tests.append(lambda row: str(row["AptDateTime"])[:10] == day)
    elif "dateStart" in query or "dateEnd" in query:
        if "dateStart" not in query or "dateEnd" not in query:
            raise ApiError(400, "dateStart and dateEnd must be used together.")
        start = fmt_date(as_date(query["dateStart"], "dateStart"))
        end = fmt_date(as_date(query["dateEnd"], "dateEnd"))
        tests.append(lambda row: start <= str(row["AptDateTime"])[:10] <= end)
    rows = sorted(state.appointments, key=lambda row: int(row["AptNum"]))
    return [row for row in rows if all(test(row) for test in tests)]


def _equals(column: str, value: object) -> Callable[[Row], bool]:
    return lambda row: row[column] == value


def get_document(state: SimulatorState, request: Request) -> Row:
    doc_num = as_int(request.path_params["doc_num"], "DocNum")
    row = next((d for d in state.documents if d["DocNum"] == doc_num), None)
    if row is None:
        raise ApiError(404, "Document not found.")
    content = state.document_bytes.get(doc_num, b"")
    answer = {k: v for k, v in row.items() if k != "serverDateTime"}
    answer["RawBase64"] = base64.b64encode(content).decode("ascii")
    return answer
