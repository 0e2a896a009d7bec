"""Patient notes, task notes and documents, as Open Dental's API documents them.

- PatientNotes (21.2): GET /patientnotes/{PatNum}; PUT replaces the fields it is given.
- TaskNotes (24.4.22): GET ?TaskNum=, POST {TaskNum, UserNum, Note}, PUT {Note}.
- Documents: POST /documents/Upload (21.1) {PatNum, rawBase64, extension, Description,
  DateCreated, DocCategory (DefNum, category 18), ImgType, ProvNum}; GET /documents?PatNum=.

Text columns are MySQL TEXT (65,535 bytes); longer values are refused as MySQL would.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request

from connectors.opendental.simulator import seed
from connectors.opendental.simulator.fields import (
    ApiError,
    as_datetime,
    as_int,
    as_str,
    invalid,
    require,
)
from connectors.opendental.simulator.state import PATIENT_NOTE_FIELDS, Row, SimulatorState

TEXT_MAX_BYTES: Final = 65_535
DESCRIPTION_MAX: Final = 255
IMG_TYPES: Final = frozenset({"Document", "Radiograph", "Photo", "File", "Attachment"})
EXTENSIONS: Final = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif"})


def _text(value: Any, name: str) -> str:
    text = as_str(value, name)
    if len(text.encode()) > TEXT_MAX_BYTES:
        raise ApiError(400, f"{name} is too long.")
    return text


def _existing_patient(state: SimulatorState, pat_num: int) -> None:
    if pat_num not in state.patients:
        raise ApiError(404, "Patient not found.")


# ---------------------------------------------------------------------------- patient notes


def get_patient_note(state: SimulatorState, request: Request) -> Row:
    pat_num = as_int(request.path_params["pat_num"], "PatNum")
    _existing_patient(state, pat_num)
    return state.patient_note(pat_num)


def update_patient_note(state: SimulatorState, pat_num: int, body: Mapping[str, Any]) -> Row:
    _existing_patient(state, pat_num)
    changes = {name: _text(body[name], name) for name in PATIENT_NOTE_FIELDS if name in body}
    if not changes:
        raise ApiError(400, "No fields were given to update.")
    row = state.patient_note(pat_num)
    row.update(changes)
    row["SecDateTEdit"] = state.server_date_time()
    return row


# ---------------------------------------------------------------------------- task notes


def list_tasknotes(state: SimulatorState, request: Request) -> list[Row]:
    task_num = as_int(require(request.query_params, "TaskNum"), "TaskNum")
    if state.task(task_num) is None:
        raise ApiError(404, "Task not found.")
    return [row for row in state.tasknotes if row["TaskNum"] == task_num]


def create_tasknote(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    task_num = as_int(require(body, "TaskNum"), "TaskNum")
    if state.task(task_num) is None:
        raise invalid("TaskNum")
    user_num = as_int(body.get("UserNum", 0), "UserNum")
    return state.add_tasknote(task_num, _text(require(body, "Note"), "Note"), user_num=user_num)


def update_tasknote(state: SimulatorState, task_note_num: int, body: Mapping[str, Any]) -> Row:
    row = next((r for r in state.tasknotes if r["TaskNoteNum"] == task_note_num), None)
    if row is None:
        raise ApiError(404, "TaskNote not found.")
    row["Note"] = _text(require(body, "Note"), "Note")
    return row


# ---------------------------------------------------------------------------- documents


def list_documents(state: SimulatorState, request: Request) -> list[Row]:
    pat_num = as_int(require(request.query_params, "PatNum"), "PatNum")
    _existing_patient(state, pat_num)
    return [row for row in state.documents if row["PatNum"] == pat_num]


def upload_document(state: SimulatorState, body: Mapping[str, Any]) -> Row:
    pat_num = as_int(require(body, "PatNum"), "PatNum")
    if pat_num not in state.patients:
        raise invalid("PatNum")
    try:
        content = base64.b64decode(as_str(require(body, "rawBase64"), "rawBase64"), validate=True)
    except binascii.Error:
        raise invalid("rawBase64") from None
    if not content:
        raise invalid("rawBase64")
    extension = as_str(require(body, "extension"), "extension").lower()
    if extension not in EXTENSIONS:
        raise invalid("extension")
    category = _image_category(state, body)
    img_type = as_str(body.get("ImgType", "Document"), "ImgType")
    if img_type not in IMG_TYPES:
        raise invalid("ImgType")
    prov_num = as_int(body.get("ProvNum", 0), "ProvNum")
    if prov_num and state.provider(prov_num) is None:
        raise invalid("ProvNum")
    date_created = None
    if body.get("DateCreated") is not None:
        date_created = as_datetime(body["DateCreated"], "DateCreated")
    return state.add_document(
        pat_num,
        content,
        extension=extension,
        doc_category=category,
        description=as_str(body.get("Description", ""), "Description", DESCRIPTION_MAX),
        date_created=date_created,
        img_type=img_type,
        prov_num=prov_num,
    )


def _image_category(state: SimulatorState, body: Mapping[str, Any]) -> int:
    if body.get("DocCategory") is None:
        first = state.first_definition(seed.IMAGE_CATS)
        if first is None:
            raise invalid("DocCategory")
        return int(first["DefNum"])
    def_num = as_int(body["DocCategory"], "DocCategory")
    row = state.definition(def_num, seed.IMAGE_CATS)
    if row is None or row["isHidden"] == "true":
        raise invalid("DocCategory")
    return def_num
