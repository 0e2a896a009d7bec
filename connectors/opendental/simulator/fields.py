"""Open Dental wire formats and the validation errors the API answers with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Open Dental's "empty" date/datetime, used for unset columns.
MIN_DATE = "0001-01-01"
MIN_DATETIME = "0001-01-01 00:00:00"
# Remote API page size cap (Local/Service allow 1000; the simulator plays Remote).
MAX_PAGE_SIZE = 100

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_INT_RE = re.compile(r"^-?\d+$")


class ApiError(Exception):
    """An answer other than success, with Open Dental's short message."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def invalid(name: str) -> ApiError:
    return ApiError(400, f"{name} is invalid.")


def require(body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(400, f"{name} is required.")
    return value


def as_int(value: Any, name: str) -> int:
    # Open Dental's C# parser takes numbers and numeric strings alike for keys.
    if isinstance(value, bool):
        raise invalid(name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    raise invalid(name)


def as_amount(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ApiError(400, f"{name} must be a number.")
    return Decimal(value)


def as_str(value: Any, name: str, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise invalid(name)
    if max_length is not None and len(value) > max_length:
        raise ApiError(400, f"{name} must be {max_length} characters or less.")
    return value


def as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(400, f'{name} must be "true" or "false".')


def as_date(value: Any, name: str) -> date:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ApiError(400, f"{name} must be in the format yyyy-MM-dd.")
    try:
        return datetime.strptime(value, DATE_FORMAT).date()
    except ValueError:
        raise invalid(name) from None


def as_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not _DATETIME_RE.match(value):
        raise ApiError(400, f"{name} must be in the format yyyy-MM-dd HH:mm:ss.")
    try:
        return datetime.strptime(value, DATETIME_FORMAT)
    except ValueError:
        raise invalid(name) from None


def fmt_date(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def fmt_datetime(value: datetime) -> str:
    return value.strftime(DATETIME_FORMAT)


def od_bool(value: bool) -> str:
    return "true" if value else "false"


def paging(query: Mapping[str, str]) -> tuple[int, int]:
    """(offset, limit) from Limit/Offset; larger limits are capped like the Remote API does."""
    offset = as_int(query.get("Offset", "0"), "Offset")
    limit = as_int(query.get("Limit", str(MAX_PAGE_SIZE)), "Limit")
    if offset < 0:
        raise invalid("Offset")
    if limit <= 0:
        raise invalid("Limit")
    return offset, min(limit, MAX_PAGE_SIZE)
