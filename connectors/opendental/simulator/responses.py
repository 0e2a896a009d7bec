"""Responses shaped like Open Dental's: JSON bodies, messages as bare JSON strings."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from connectors.opendental.simulator.fields import ApiError
from connectors.opendental.simulator.jsonio import dumps


class ODJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def error_response(error: ApiError) -> ODJSONResponse:
    return ODJSONResponse(error.message, status_code=error.status, headers=error.headers)


def server_error(status: int) -> ODJSONResponse:
    return ODJSONResponse(HTTPStatus(status).phrase, status_code=status)
