"""Fault switches: how tests make the simulated office slow, broken or ambiguous."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CountedFault:
    """Lets the next `after` eligible calls through, applies to the `remaining` calls after
    them, then switches itself off. `after` is how a test fails the Nth write of a
    multi-step operation (e.g. the third of four writes of an insurance payment)."""

    remaining: int = 0
    status: int = 500
    seconds: float = 0.0
    after: int = 0

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        if self.after > 0:
            self.after -= 1
            return False
        self.remaining -= 1
        return True

    def snapshot(self) -> dict[str, Any]:
        return {
            "count": self.remaining,
            "status": self.status,
            "seconds": self.seconds,
            "after": self.after,
        }


@dataclass
class FaultSwitches:
    latency_ms: int = 0
    # "Writes" are every POST and PUT, whatever the endpoint, counted in arrival order.
    # Writes that fail with a 5xx before anything is stored.
    before_commit: CountedFault = field(default_factory=CountedFault)
    # Writes that are stored and then answered with a 5xx.
    after_commit: CountedFault = field(default_factory=CountedFault)
    # Writes that are stored and then answered only after `seconds` (client times out first).
    hang_after_commit: CountedFault = field(default_factory=CountedFault)
    # Writes answered with a 5xx at once but stored `seconds` later: an office that commits
    # after the client gave up, so a lookup right after the failure finds nothing yet.
    commit_late: CountedFault = field(default_factory=CountedFault)
    # Any API call answered 429, Retry-After = `seconds`.
    throttle: CountedFault = field(default_factory=lambda: CountedFault(status=429, seconds=1))

    def fail_writes_before_commit(self, count: int = 1, status: int = 500, after: int = 0) -> None:
        """Fail `count` writes with `status`, after letting `after` writes through."""
        self.before_commit = CountedFault(_count(count), _server_error(status), after=_count(after))

    def fail_writes_after_commit(self, count: int = 1, status: int = 500, after: int = 0) -> None:
        """Store and then answer `status` for `count` successful writes, after `after` of them
        were answered normally (refused writes store nothing and do not count here)."""
        self.after_commit = CountedFault(_count(count), _server_error(status), after=_count(after))

    def hang_writes_after_commit(self, count: int = 1, seconds: float = 5.0) -> None:
        self.hang_after_commit = CountedFault(_count(count), 200, _seconds(seconds))

    def commit_writes_late(self, count: int = 1, seconds: float = 1.0, status: int = 500) -> None:
        self.commit_late = CountedFault(_count(count), _server_error(status), _seconds(seconds))

    def throttle_calls(self, count: int = 1, retry_after: int = 1) -> None:
        self.throttle = CountedFault(_count(count), 429, float(_count(retry_after)))

    def clear(self) -> None:
        fresh = FaultSwitches()
        self.__dict__.update(fresh.__dict__)

    def snapshot(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "fail_before_commit": self.before_commit.snapshot(),
            "fail_after_commit": self.after_commit.snapshot(),
            "hang_after_commit": self.hang_after_commit.snapshot(),
            "commit_late": self.commit_late.snapshot(),
            "throttle": {
                "count": self.throttle.remaining,
                "retry_after": int(self.throttle.seconds),
            },
        }

    def apply(self, payload: Mapping[str, Any]) -> None:
        """Set the switches named in `payload` (the /_sim/faults body); others stay as they are.

        :raises ValueError: unknown switch or bad value; nothing is changed then.
        """
        staged = FaultSwitches(**self.__dict__)
        for name, value in payload.items():
            if name == "latency_ms":
                staged.latency_ms = _count(_number(value, name))
                continue
            spec = _mapping(value, name)
            count = _count(_number(spec.get("count", 1), "count"))
            after = _count(_number(spec.get("after", 0), "after"))
            if name == "fail_before_commit":
                status = int(_number(spec.get("status", 500), name))
                staged.fail_writes_before_commit(count, status, after)
            elif name == "fail_after_commit":
                status = int(_number(spec.get("status", 500), name))
                staged.fail_writes_after_commit(count, status, after)
            elif name == "hang_after_commit":
                staged.hang_writes_after_commit(count, _number(spec.get("seconds", 5), name))
            elif name == "commit_late":
                staged.commit_writes_late(
                    count,
                    _number(spec.get("seconds", 1), name),
                    int(_number(spec.get("status", 500), name)),
                )
            elif name == "throttle":
                staged.throttle_calls(count, int(_number(spec.get("retry_after", 1), name)))
            else:
                raise ValueError(f"unknown fault {name!r}")
        self.__dict__.update(staged.__dict__)


def _server_error(status: int) -> int:
    if not 500 <= status <= 599:
        raise ValueError("fault status must be a 5xx code")
    return status


def _count(value: float) -> int:
    if value < 0 or not float(value).is_integer():
        raise ValueError("counts must be whole numbers, not negative")
    return int(value)


def _seconds(value: float) -> float:
    if value < 0:
        raise ValueError("seconds must not be negative")
    return float(value)


def _number(value: Any, name: str) -> float:
    # Bodies come through the Decimal-parsing codec; faults are not money, so float is fine.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number") from None


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be an object")
    return value
