"""Test controls under /_sim: no ODFHIR auth, never part of the simulated API."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.opendental.simulator.jsonio import loads
from connectors.opendental.simulator.responses import ODJSONResponse
from connectors.opendental.simulator.state import Row, SimulatorState


def control_routes(state: SimulatorState) -> list[Route]:
    # Settings and faults are not money, so they use Starlette's plain JSON; ledger rows
    # go through the Decimal-exact response like the API's.
    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"reset": True})

    async def get_faults(request: Request) -> Response:
        return JSONResponse(state.faults.snapshot())

    async def set_faults(request: Request) -> Response:
        try:
            state.faults.apply(await _object_body(request))
        except ValueError as exc:
            return JSONResponse(str(exc), status_code=400)
        return JSONResponse(state.faults.snapshot())

    async def set_config(request: Request) -> Response:
        try:
            _apply_config(state, await _object_body(request))
        except ValueError as exc:
            return JSONResponse(str(exc), status_code=400)
        return JSONResponse(_config(state))

    async def counts(request: Request) -> Response:
        return JSONResponse(state.post_counts())

    async def put_counts(request: Request) -> Response:
        return JSONResponse(state.put_counts())

    async def refunds(request: Request) -> Response:
        pairs = [{"PayNum": k, "refund_of": v} for k, v in state.refund_of.items()]
        return JSONResponse(pairs)

    def table(rows: Callable[[], list[Row]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return ODJSONResponse(rows())

        return endpoint

    return [
        Route("/reset", reset, methods=["POST"]),
        Route("/faults", get_faults, methods=["GET"]),
        Route("/faults", set_faults, methods=["POST"]),
        Route("/config", set_config, methods=["POST"]),
        Route("/counts", counts, methods=["GET"]),
        Route("/put_counts", put_counts, methods=["GET"]),
        Route("/payments", table(lambda: state.payments), methods=["GET"]),
        Route("/paysplits", table(lambda: state.paysplits), methods=["GET"]),
        Route("/refunds", refunds, methods=["GET"]),
        Route("/payplans", table(lambda: state.payplans), methods=["GET"]),
        Route("/claims", table(lambda: state.claims), methods=["GET"]),
        Route("/claimprocs", table(lambda: state.claimprocs), methods=["GET"]),
        Route("/claimpayments", table(lambda: state.claimpayments), methods=["GET"]),
        Route("/adjustments", table(lambda: state.adjustments), methods=["GET"]),
        Route("/commlogs", table(lambda: state.commlogs), methods=["GET"]),
        Route("/patients", table(lambda: list(state.patients.values())), methods=["GET"]),
    ]


async def _object_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _apply_config(state: SimulatorState, body: dict[str, Any]) -> None:
    unknown = set(body) - {"throttle_interval_seconds", "allow_future_pay_dates", "customer_keys"}
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    interval = body.get("throttle_interval_seconds", Decimal(str(state.throttle_interval_seconds)))
    allow_future = body.get("allow_future_pay_dates", state.allow_future_pay_dates)
    keys = body.get("customer_keys", {})
    # The codec yields int or Decimal for numbers; bool is an int subclass and is refused.
    if isinstance(interval, bool) or not isinstance(interval, int | Decimal) or interval < 0:
        raise ValueError("throttle_interval_seconds must be a number, not negative")
    if not isinstance(allow_future, bool):
        raise ValueError("allow_future_pay_dates must be true or false")
    if not isinstance(keys, dict) or not all(isinstance(v, bool) for v in keys.values()):
        raise ValueError("customer_keys must map keys to true (enabled) or false (disabled)")
    state.throttle_interval_seconds = float(interval)
    state.allow_future_pay_dates = allow_future
    for key, enabled in keys.items():
        state.add_customer_key(str(key), enabled=enabled)


def _config(state: SimulatorState) -> dict[str, Any]:
    return {
        "throttle_interval_seconds": state.throttle_interval_seconds,
        "allow_future_pay_dates": state.allow_future_pay_dates,
        "customer_keys": dict(state.customer_keys),
    }
