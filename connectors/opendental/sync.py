"""Polling Open Dental: patients and appointments changed since a cursor, patient pictures.

Incremental reads follow the documented loop: pass the stored `serverDateTime` back as
`DateTStamp`, read every page (Limit/Offset until a short page), and take the next cursor
from the first page's `serverDateTime`, so a row changed while later pages are read is read
again next time rather than missed. Timestamps have 1-second resolution and no zone; the
caller subtracts an overlap window and de-duplicates by key, because whether DateTStamp
means "at or after" or "strictly after" is not stated in the documentation (UNCONFIRMED).

Patient pictures: the picture is the newest document (DateCreated) in the first visible
image category (definition category 18) whose ItemValue has the "P" flag, as Open Dental's
own GetPatPictFromDb picks it. Open Dental documents no binary download over REST (only
POST /documents/DownloadSftp to the vendor's SFTP server). We read the file from
`RawBase64` of GET /documents/{DocNum} (24.2.32), which offices storing images in the
database fill; that field's presence in the API answer is UNCONFIRMED, and offices storing
images in folders or the cloud get no photo through this path (the picture is then reported
as absent, never guessed).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from connectors.opendental import mapping
from connectors.opendental.client import OpenDentalClient
from domain.ports import (
    ChangedAppointments,
    ChangedPatients,
    PatientPhoto,
    PmsAppointment,
    PmsPatient,
)

DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
# Each character of Appointment.Pattern is one time increment; 5 minutes is Open Dental's
# default (pref AppointmentTimeIncrement may be 10 or 15: UNCONFIRMED for the API's pattern).
PATTERN_MINUTES: Final = 5
IMAGE_CATEGORIES: Final = 18
PICTURE_FLAG: Final = "P"
_HINT_SYNC: Final = (
    "Check the Open Dental connection settings and that the key has the Read All permission."
)
_CONTENT_TYPES: Final = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}


def fmt_stamp(value: datetime) -> str:
    return value.strftime(DATETIME_FORMAT)


def parse_stamp(value: Any) -> datetime | None:
    """An Open Dental datetime; None for "0001-01-01 00:00:00" (unset) or anything else."""
    if not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    try:
        return datetime.strptime(value.strip()[:19], DATETIME_FORMAT)
    except ValueError:
        return None


def _key_text(row: Mapping[str, Any], column: str) -> str | None:
    key = mapping.key_of(row.get(column))
    return str(key) if key > 0 else None


def from_opendental_patient(row: Mapping[str, Any]) -> PmsPatient:
    return PmsPatient(
        id=str(mapping.key_of(row.get("PatNum"))),
        last_name=mapping.text_of(row, "LName"),
        first_name=mapping.text_of(row, "FName"),
        preferred_name=mapping.text_of(row, "Preferred"),
        birthdate=_birthdate(row.get("Birthdate")),
        status=mapping.text_of(row, "PatStatus") or "Patient",
        provider_id=_key_text(row, "PriProv"),
        clinic_id=_key_text(row, "ClinicNum"),
        changed_at=mapping.text_of(row, "DateTStamp") or None,
    )


def from_opendental_appointment(row: Mapping[str, Any]) -> PmsAppointment | None:
    """None for a row without a usable AptNum or start time (nothing to show)."""
    starts_at = parse_stamp(row.get("AptDateTime"))
    apt_num = mapping.key_of(row.get("AptNum"))
    if starts_at is None or apt_num <= 0:
        return None
    pattern = mapping.text_of(row, "Pattern")
    return PmsAppointment(
        id=str(apt_num),
        patient_id=str(mapping.key_of(row.get("PatNum"))),
        status=mapping.text_of(row, "AptStatus") or "Scheduled",
        starts_at=starts_at,
        duration_minutes=len(pattern) * PATTERN_MINUTES,
        confirmation_id=_key_text(row, "Confirmed"),
        confirmation_label=mapping.text_of(row, "confirmed") or None,
        operatory_id=_key_text(row, "Op"),
        provider_id=_key_text(row, "ProvNum"),
        provider_abbr=mapping.text_of(row, "provAbbr") or None,
        clinic_id=_key_text(row, "ClinicNum"),
        arrived_at=parse_stamp(row.get("DateTimeArrived")),
        seated_at=parse_stamp(row.get("DateTimeSeated")),
        dismissed_at=parse_stamp(row.get("DateTimeDismissed")),
        changed_at=mapping.text_of(row, "DateTStamp") or None,
    )


def _birthdate(value: Any) -> date | None:
    parsed = mapping._date(value)  # noqa: SLF001  (the module's own date parser)
    return None if parsed is None or parsed.year <= 1 else parsed


def content_type_of(file_name: str) -> str | None:
    dot = file_name.rfind(".")
    return _CONTENT_TYPES.get(file_name[dot:].lower()) if dot >= 0 else None


class OpenDentalSync:
    def __init__(self, client: OpenDentalClient) -> None:
        self._client = client
        # The picture category, read once per connector (one poll) however many photos.
        self._picture_category_read = False
        self._picture_category_num: int | None = None

    async def patients_changed_since(self, since: datetime | None) -> ChangedPatients:
        params: dict[str, str | int] = {}
        if since is not None:
            params["DateTStamp"] = fmt_stamp(since)
        rows, server_time = await self._read_all(
            "/patients/Simple", params, action="reading changed patients"
        )
        return ChangedPatients([from_opendental_patient(r) for r in rows], server_time)

    async def appointments_changed_since(
        self, since: datetime | None, first_day: date | None, last_day: date | None
    ) -> ChangedAppointments:
        params: dict[str, str | int] = {}
        if since is not None:
            params["DateTStamp"] = fmt_stamp(since)
        if first_day is not None and last_day is not None:
            params["dateStart"] = first_day.strftime(mapping.DATE_FORMAT)
            params["dateEnd"] = last_day.strftime(mapping.DATE_FORMAT)
        rows, server_time = await self._read_all(
            "/appointments", params, action="reading changed appointments"
        )
        appointments = [a for a in map(from_opendental_appointment, rows) if a is not None]
        return ChangedAppointments(appointments, server_time)

    async def patient_photo(self, patient_ref: str) -> PatientPhoto | None:
        pat_num = mapping.parse_pat_num(patient_ref)
        category = await self._picture_category()
        if category is None:
            return None
        documents = await self._client.get_all(
            "/documents",
            {"PatNum": pat_num},
            action="reading the patient's documents",
            hint=_HINT_SYNC,
        )
        pictures = [
            d
            for d in documents
            if mapping.key_of(d.get("DocNum")) > 0
            and mapping.key_of(d.get("DocCategory")) == category
        ]
        if not pictures:
            return None
        newest = max(
            pictures,
            key=lambda d: (str(d.get("DateCreated", "")), mapping.key_of(d.get("DocNum"))),
        )
        doc_num = mapping.key_of(newest.get("DocNum"))
        row = await self._client.get_one(
            f"/documents/{doc_num}", action="reading the patient picture", hint=_HINT_SYNC
        )
        if row is None:
            return None
        content = _decoded(row.get("RawBase64"))
        file_name = mapping.text_of(row, "FileName") or mapping.text_of(newest, "FileName")
        content_type = content_type_of(file_name)
        if content is None or content_type is None:
            return None
        return PatientPhoto(
            document_id=str(doc_num),
            content_type=content_type,
            content=content,
            taken_at=parse_stamp(row.get("DateCreated")),
        )

    async def _picture_category(self) -> int | None:
        if not self._picture_category_read:
            self._picture_category_num = await self._read_picture_category()
            self._picture_category_read = True
        return self._picture_category_num

    async def _read_picture_category(self) -> int | None:
        rows = await self._client.get_all(
            "/definitions",
            {"Category": IMAGE_CATEGORIES},
            action="reading image categories",
            hint=_HINT_SYNC,
        )
        flagged = [
            r
            for r in rows
            if PICTURE_FLAG in mapping.text_of(r, "ItemValue")
            and not mapping.od_bool(r.get("isHidden"))
        ]
        if not flagged:
            return None
        first = min(flagged, key=lambda r: mapping.key_of(r.get("ItemOrder")))
        return mapping.key_of(first.get("DefNum"))

    async def _read_all(
        self, path: str, params: Mapping[str, str | int], *, action: str
    ) -> tuple[list[dict[str, Any]], datetime | None]:
        rows: list[dict[str, Any]] = []
        server_time: datetime | None = None
        async for page in self._client.pages(path, params, action=action, hint=_HINT_SYNC):
            if server_time is None and page:
                server_time = parse_stamp(page[0].get("serverDateTime"))
            rows.extend(page)
        return rows, server_time


def _decoded(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
