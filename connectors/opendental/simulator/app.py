"""The simulator's ASGI app: Open Dental's API under /api/v1, test controls under /_sim."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from connectors.opendental.simulator import reads, writes
from connectors.opendental.simulator.control import control_routes
from connectors.opendental.simulator.fields import ApiError, paging
from connectors.opendental.simulator.jsonio import loads
from connectors.opendental.simulator.responses import ODJSONResponse, error_response, server_error
from connectors.opendental.simulator.state import Row, SimulatorState

API_PREFIX: Final = "/api/v1"
# Documented cap on PUT/POST bodies.
MAX_BODY_CHARS: Final = 16_800_000
_AUTH_RE: Final = re.compile(r"^ODFHIR (?P<developer>[^/\s]+)/(?P<customer>[^/\s]+)$")

ReadHandler = Callable[[SimulatorState, Request], Row | list[Row]]
WriteHandler = Callable[[SimulatorState, Mapping[str, Any]], Row]


def create_simulator_app(state: SimulatorState) -> Starlette:
    api: list[BaseRoute] = [
        _get(state, "/payments", reads.list_payments),
        _post(state, "/payments", "payments", writes.create_payment),
        _get(state, "/definitions", reads.list_definitions),
        _get(state, "/providers", reads.list_providers),
        # Before /patients/{pat_num}, which would otherwise take "Simple" as a PatNum.
        _get(state, "/patients/Simple", reads.list_patients_simple),
        _get(state, "/patients/{pat_num}", reads.get_patient),
        _get(state, "/adjustments", reads.list_adjustments),
        _post(state, "/adjustments", "adjustments", writes.create_adjustment),
        _get(state, "/commlogs", reads.list_commlogs),
        _post(state, "/commlogs", "commlogs", writes.create_commlog),
    ]
    return Starlette(
        routes=[Mount(API_PREFIX, routes=api), Mount("/_sim", routes=control_routes(state))]
    )


def _get(state: SimulatorState, path: str, handler: ReadHandler) -> Route:
    async def endpoint(request: Request) -> Response:
        if await state.pause(state.faults.latency_ms / 1000):
            return server_error(503)
        try:
            _admit(state, request)
            result = handler(state, request)
            if isinstance(result, dict):
                return ODJSONResponse(dict(result))
            offset, limit = paging(request.query_params)
        except ApiError as error:
            return error_response(error)
        # Every list row carries the server's clock, for DateTStamp polling.
        stamp = state.server_date_time()
        page = [{**row, "serverDateTime": stamp} for row in result[offset : offset + limit]]
        return ODJSONResponse(page)

    return Route(path, endpoint, methods=["GET"])


def _post(state: SimulatorState, path: str, resource: str, handler: WriteHandler) -> Route:
    async def endpoint(request: Request) -> Response:
        state.count_post(resource)
        if await state.pause(state.faults.latency_ms / 1000):
            return server_error(503)
        faults = state.faults
        try:
            _admit(state, request)
            body = await _json_body(request)
            if faults.before_commit.take():
                return server_error(faults.before_commit.status)
            if faults.commit_late.take():
                state.run_later(faults.commit_late.seconds, lambda: handler(state, body))
                return server_error(faults.commit_late.status)
            row = handler(state, body)
        except ApiError as error:
            return error_response(error)
        if faults.after_commit.take():
            return server_error(faults.after_commit.status)
        if faults.hang_after_commit.take():
            await state.pause(faults.hang_after_commit.seconds)
        return ODJSONResponse(dict(row), status_code=201)

    return Route(path, endpoint, methods=["POST"])


def _admit(state: SimulatorState, request: Request) -> None:
    customer_key = _authenticate(state, request)
    if state.faults.throttle.take():
        raise _too_many_requests(state.faults.throttle.seconds)
    wait = state.admit(customer_key)
    if wait is not None:
        raise _too_many_requests(wait)


def _authenticate(state: SimulatorState, request: Request) -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(401, "Authorization header is missing.")
    match = _AUTH_RE.match(header.strip())
    if match is None:
        raise ApiError(401, "Authorization header must be: ODFHIR {DeveloperKey}/{CustomerKey}")
    if match["developer"] != state.developer_key:
        raise ApiError(401, "Invalid developer key.")
    enabled = state.customer_keys.get(match["customer"])
    if enabled is None:
        raise ApiError(401, "Invalid customer key.")
    if not enabled:
        raise ApiError(401, "This customer key has been disabled by the office.")
    return match["customer"]


def _too_many_requests(seconds: float) -> ApiError:
    # Retry-After takes whole seconds; round up so an obedient client is never early.
    retry_after = max(1, math.ceil(seconds))
    return ApiError(429, "Too many requests.", {"Retry-After": str(retry_after)})


async def _json_body(request: Request) -> Mapping[str, Any]:
    content_type = request.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(400, "Content-Type must be application/json.")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "Request body must be UTF-8 JSON.") from None
    if len(text) > MAX_BODY_CHARS:
        raise ApiError(400, "Request body is too large.")
    try:
        body = loads(text)
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    return body
