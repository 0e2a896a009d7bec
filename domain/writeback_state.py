"""The life of a writeback intent: which status may follow which."""

from __future__ import annotations

from domain.enums import WritebackStatus as S
from domain.errors import InvalidTransition

_ALLOWED: dict[S, frozenset[S]] = {
    S.SKIPPED: frozenset(),
    S.AWAITING_MANUAL: frozenset({S.QUEUED, S.SUCCEEDED}),
    S.SCHEDULED: frozenset({S.QUEUED, S.POSTING}),
    S.QUEUED: frozenset({S.POSTING}),
    # posting -> posting: a claim whose worker died is taken over after its lease expired.
    S.POSTING: frozenset(
        {
            S.POSTING,
            S.SUCCEEDED,
            S.RETRYING,
            S.UNKNOWN,
            S.FAILED,
            S.PARTIAL,
            S.AWAITING_CONFIRMATION,
        }
    ),
    S.RETRYING: frozenset({S.POSTING, S.FAILED}),
    S.UNKNOWN: frozenset({S.POSTING, S.FAILED}),
    S.AWAITING_CONFIRMATION: frozenset({S.SUCCEEDED, S.FAILED, S.UNKNOWN}),
    S.SUCCEEDED: frozenset(),
    # Staff may push a failed item again (retryWriteback); a partial one writes only the
    # parts still missing.
    S.FAILED: frozenset({S.QUEUED}),
    S.PARTIAL: frozenset({S.QUEUED}),
}

# Statuses in which the worker (or the sweeper) still owes the intent a posting attempt.
DUE_STATUSES: frozenset[S] = frozenset({S.QUEUED, S.RETRYING, S.UNKNOWN, S.POSTING})
FINAL_STATUSES: frozenset[S] = frozenset({S.SUCCEEDED, S.FAILED, S.PARTIAL, S.SKIPPED})


def check_transition(current: S, new: S) -> None:
    if new not in _ALLOWED[current]:
        raise InvalidTransition(f"a writeback cannot go from {current.value} to {new.value}")


def can_transition(current: S, new: S) -> bool:
    return new in _ALLOWED[current]
