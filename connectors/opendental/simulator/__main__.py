"""Run the simulator for the demo: python -m connectors.opendental.simulator --port 8765"""

from __future__ import annotations

import argparse

import uvicorn

from connectors.opendental.simulator import API_PREFIX, SimulatorState, create_simulator_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulated Open Dental REST API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--throttle", type=float, default=1.0, help="seconds between calls")
    args = parser.parse_args()
    state = SimulatorState(throttle_interval_seconds=args.throttle)
    customer_key = next(iter(state.customer_keys))
    print(f"Open Dental simulator at http://{args.host}:{args.port}{API_PREFIX}")
    print(f"Authorization: ODFHIR {state.developer_key}/{customer_key}")
    uvicorn.run(create_simulator_app(state), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
