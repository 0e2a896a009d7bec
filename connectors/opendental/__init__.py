"""Open Dental connector: its REST API (v1) behind the PmsConnector port."""

from connectors.opendental.connector import OPEN_DENTAL_CAPABILITIES, OpenDentalConnector

__all__ = ["OPEN_DENTAL_CAPABILITIES", "OpenDentalConnector"]
