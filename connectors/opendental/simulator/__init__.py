"""A stand-in for an Open Dental office's REST API, for tests and the demo.

It implements the subset the writeback engine uses, with Open Dental's field names,
formats, validation, throttling and status codes, plus switches for faults.
"""

from connectors.opendental.simulator.app import API_PREFIX, create_simulator_app
from connectors.opendental.simulator.faults import CountedFault, FaultSwitches
from connectors.opendental.simulator.state import (
    DEFAULT_CUSTOMER_KEY,
    DEFAULT_DEVELOPER_KEY,
    SimulatorState,
)

__all__ = [
    "API_PREFIX",
    "DEFAULT_CUSTOMER_KEY",
    "DEFAULT_DEVELOPER_KEY",
    "CountedFault",
    "FaultSwitches",
    "SimulatorState",
    "create_simulator_app",
]
