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

from connectors.opendental.simulator import claims, notes, reads, schedule, writes
from connectors.opendental.simulator.control import control_routes
from connectors.opendental.simulator.fields import ApiError, as_int, paging
from connectors.opendental.simulator.jsonio import loads
from connectors.opendental.simulator.responses import ODJSONResponse, error_response, server_error
from connectors.opendental.simulator.state import Row, SimulatorState

API_PREFIX: Final = "/api/v1"
# Documented cap on PUT/POST bodies.
MAX_BODY_CHARS: Final = 16_800_000
_AUTH_RE: Final = re.compile(r"^ODFHIR (?P<developer>[^/\s]+)/(?P<customer>[^/\s]+)$")

ReadHandler = Callable[[SimulatorState, Request], Row | list[Row]]
WriteHandler = Callable[[SimulatorState, Mapping[str, Any]], Row]
# PUT handlers get the primary key from the URL, then the body.
KeyedWriteHandler = Callable[[SimulatorState, int, Mapping[str, Any]], Row]


def create_simulator_app(state: SimulatorState) -> Starlette:
    api: list[BaseRoute] = [
        _get(state, "/payments", reads.list_payments),
        _post(state, "/payments", "payments", writes.create_payment),
        # Before /payments/{pay_num}; a PUT to /payments/Refund still reaches the PUT route.
        _post(state, "/payments/Refund", "payments/Refund", writes.refund_payment),
        _put(state, "/payments/{pay_num}", "PayNum", "payments", writes.update_payment),
        _get(state, "/paysplits", reads.list_paysplits),
        _get(state, "/payplans", reads.list_payplans),
        _get(state, "/definitions", reads.list_definitions),
        _get(state, "/providers", reads.list_providers),
        # Before /patients/{pat_num}, which would otherwise take "Simple" as a PatNum.
        _get(state, "/patients/Simple", reads.list_patients_simple),
        _get(state, "/patients/{pat_num}", reads.get_patient),
        _get(state, "/adjustments", reads.list_adjustments),
        _post(state, "/adjustments", "adjustments", writes.create_adjustment),
        _get(state, "/commlogs", reads.list_commlogs),
        _post(state, "/commlogs", "commlogs", writes.create_commlog),
        _get(state, "/claims/{claim_num}", claims.get_claim),
        _put(state, "/claims/{claim_num}", "ClaimNum", "claims", claims.update_claim),
        _get(state, "/claimprocs", claims.list_claimprocs),
        _put(
            state,
            "/claimprocs/{claim_proc_num}",
            "ClaimProcNum",
            "claimprocs",
            claims.update_claimproc,
        ),
        _get(state, "/patientnotes/{pat_num}", notes.get_patient_note),
        _put(state, "/patientnotes/{pat_num}", "PatNum", "patientnotes", notes.update_patient_note),
        _get(state, "/tasknotes", notes.list_tasknotes),
        _post(state, "/tasknotes", "tasknotes", notes.create_tasknote),
        _put(
            state, "/tasknotes/{task_note_num}", "TaskNoteNum", "tasknotes", notes.update_tasknote
        ),
        _get(state, "/documents", notes.list_documents),
        _get(state, "/documents/{doc_num}", schedule.get_document),
        _get(state, "/appointments", schedule.list_appointments),
        _post(state, "/documents/Upload", "documents/Upload", notes.upload_document),
        _get(state, "/claimpayments", claims.list_claimpayments),
        _post(state, "/claimpayments", "claimpayments", claims.create_claimpayment),
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
        return await _write(state, request, lambda body: lambda: handler(state, body), 201)

    return Route(path, endpoint, methods=["POST"])


def _put(
    state: SimulatorState, path: str, key: str, resource: str, handler: KeyedWriteHandler
) -> Route:
    """PUT {path} where the single path parameter is the row's primary key `key`."""
    param = path[path.index("{") + 1 : path.index("}")]

    async def endpoint(request: Request) -> Response:
        state.count_put(resource)

        def bind(body: Mapping[str, Any]) -> Callable[[], Row]:
            pk = as_int(request.path_params[param], key)
            return lambda: handler(state, pk, body)

        return await _write(state, request, bind, 200)

    return Route(path, endpoint, methods=["PUT"])


async def _write(
    state: SimulatorState,
    request: Request,
    bind: Callable[[Mapping[str, Any]], Callable[[], Row]],
    success_status: int,
) -> Response:
    """Every write (POST or PUT) goes through the same throttle, auth and write faults."""
    if await state.pause(state.faults.latency_ms / 1000):
        return server_error(503)
    faults = state.faults
    try:
        _admit(state, request)
        apply = bind(await _json_body(request))
        if faults.before_commit.take():
            return server_error(faults.before_commit.status)
        if faults.commit_late.take():
            state.run_later(faults.commit_late.seconds, apply)
            return server_error(faults.commit_late.status)
        row = apply()
    except ApiError as error:
        return error_response(error)
    if faults.after_commit.take():
        return server_error(faults.after_commit.status)
    if faults.hang_after_commit.take():
        await state.pause(faults.hang_after_commit.seconds)
    return ODJSONResponse(dict(row), status_code=success_status)


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
