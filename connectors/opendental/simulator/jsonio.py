"""JSON with exact money: numbers parse to Decimal and Decimals serialise digit for digit.

The simulator keeps its own codec instead of importing the connector's, so a bug in the
client's encoding cannot be mirrored (and hidden) by the double it is tested against.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def dumps(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite amounts cannot be serialised")
        # "f" keeps the exact digits (10.10 stays 10.10) and never uses an exponent.
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not allowed in simulator output; use Decimal")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key))}:{dumps(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value)
