"""The worker's side of a writeback: claim, reconcile, post, record.

Three short transactions around the PMS call, so no database transaction is held open
while a practice's server is slow, and an attempt row exists before anything is sent.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.enums import AttemptOutcome, WritebackKind, WritebackStatus
from domain.persistence.base import utcnow
from domain.persistence.models import PmsConnection, WritebackAttempt, WritebackIntent
from domain.persistence.uow import UnitOfWork
from domain.ports import (
    ConnectionGate,
    ConnectorError,
    ConnectorRegistry,
    PermanentError,
    PmsConnector,
    PmsCredentials,
    SecretBox,
    ShortCache,
    Throttled,
    TransientError,
)
from domain.retry_policy import RetryPolicy
from domain.services import posting_parts, writeback_provider
from domain.services.connections import credentials_of
from domain.services.notifications import (
    NoticePolicy,
    raise_writeback_failed,
    resolve_recovered,
)
from domain.services.posting_parts import Part, parts_of
from domain.services.status_events import publish_status
from domain.writeback_state import DUE_STATUSES, check_transition

log = logging.getLogger(__name__)

# Attempts known to have written nothing. Any other earlier attempt (unknown, cut short, or
# even a success recorded by a worker whose claim had expired) means: look up the marker
# before posting again.
_WROTE_NOTHING = {
    AttemptOutcome.TRANSIENT_ERROR.value,
    AttemptOutcome.THROTTLED.value,
    AttemptOutcome.PERMANENT_ERROR.value,
}
# A PMS that throttles every call for this many attempts is not coming back soon.
MAX_THROTTLED_ATTEMPTS = 200
# Attempts that spend the retry budget (throttling waits do not).
_COUNTED = {AttemptOutcome.OUTCOME_UNKNOWN.value, AttemptOutcome.TRANSIENT_ERROR.value}


@dataclass(frozen=True)
class PostingDeps:
    secret_box: SecretBox
    registry: ConnectorRegistry
    gate: ConnectionGate
    retry_policy: RetryPolicy
    cache: ShortCache
    claim_seconds: float = 75.0
    # After an ambiguous write, how long the PMS may still be committing it (Open Dental
    # finishes or gives up on a request within 60 s). The marker is looked up only then.
    unknown_settle_seconds: float = 90.0
    notices: NoticePolicy = NoticePolicy()


@dataclass(frozen=True)
class PostingOutcome:
    """What the job should do next: nothing, or run again after `defer_seconds`."""

    status: WritebackStatus | None
    defer_seconds: float | None = None


@dataclass(frozen=True)
class _Claim:
    intent_id: str
    attempt_id: str
    attempt_number: int
    credentials: PmsCredentials | PermanentError
    reconcile_first: bool
    lookup_since: date
    parts: list[Part]
    # Parts written by earlier attempts: part name -> PMS record id.
    posted_parts: dict[str, str]
    # Communications and documents are attributed to this provider, checked before writing.
    provider_ref: str | None


@dataclass(frozen=True)
class _Result:
    outcome: AttemptOutcome
    # Parts this attempt wrote or found: part name -> PMS record id.
    written: dict[str, str]
    error: ConnectorError | None = None


UowFactory = Callable[[], UnitOfWork]


async def post_writeback(new_uow: UowFactory, deps: PostingDeps, intent_id: str) -> PostingOutcome:
    claimed = await _claim(new_uow, deps, intent_id)
    if isinstance(claimed, PostingOutcome):
        return claimed
    result = await _call_pms(deps, claimed)
    return await _record(new_uow, deps, claimed, result)


async def _claim(new_uow: UowFactory, deps: PostingDeps, intent_id: str) -> _Claim | PostingOutcome:
    async with new_uow() as uow:
        now = utcnow()
        # Compare-and-set as the transaction's first statement: on PostgreSQL it locks the
        # row, on SQLite it takes the write lock, so two workers can never both claim.
        claimed = await uow.intents.try_claim(
            intent_id,
            now,
            now + timedelta(seconds=deps.claim_seconds),
            [s.value for s in DUE_STATUSES],
        )
        intent = await uow.intents.get(intent_id)
        if intent is None:
            return PostingOutcome(None)
        if not claimed:
            return _not_claimed(intent, now)

        attempts = list(await uow.attempts.for_intents([intent.id]))
        for earlier in attempts:
            if earlier.outcome is None:
                earlier.outcome = AttemptOutcome.OUTCOME_UNKNOWN.value
                earlier.error = "the worker stopped before recording the outcome"
                earlier.finished_at = now
        reconcile_first = any(a.outcome not in _WROTE_NOTHING for a in attempts)

        number = intent.attempt_count + 1
        attempt = WritebackAttempt(intent_id=intent.id, number=number, started_at=now)
        uow.attempts.add(attempt)
        intent.attempt_count = number
        credentials = _credentials(await uow.connections.get(intent.location_id), deps)
        first_started = min((a.started_at for a in attempts), default=now)
        document = (
            await uow.documents.content_of(intent.id)
            if intent.kind == WritebackKind.DOCUMENT
            else None
        )
        await uow.flush()
        publish_status(uow, intent)
        claim = _Claim(
            intent_id=intent.id,
            attempt_id=attempt.id,
            attempt_number=number,
            credentials=credentials,
            reconcile_first=reconcile_first,
            # The PMS stamps entry dates in the office's local day; a day of slack covers
            # any time zone without missing the earlier posting.
            lookup_since=first_started.date() - timedelta(days=1),
            parts=parts_of(intent, document),
            posted_parts=dict(intent.payload.get("posted_parts", {})),
            provider_ref=intent.payload.get("provider")
            if intent.kind in (WritebackKind.COMMUNICATION, WritebackKind.DOCUMENT)
            else None,
        )
        await uow.commit()
        return claim


def _not_claimed(intent: WritebackIntent, now: datetime) -> PostingOutcome:
    status = WritebackStatus(intent.status)
    if status not in DUE_STATUSES:
        return PostingOutcome(status)
    if status is WritebackStatus.POSTING and intent.claim_expires_at:
        # Another worker holds it; look again once its claim could have expired.
        return PostingOutcome(status, max((intent.claim_expires_at - now).total_seconds(), 0) + 1)
    if intent.next_attempt_at and intent.next_attempt_at > now:
        return PostingOutcome(status, (intent.next_attempt_at - now).total_seconds())
    return PostingOutcome(status, 1.0)


def _credentials(
    connection: PmsConnection | None, deps: PostingDeps
) -> PmsCredentials | PermanentError:
    if connection is None:
        return PermanentError(
            "the location has no PMS connection", "An admin must set the PMS connection, then retry"
        )
    try:
        return credentials_of(connection, deps.secret_box)
    except Exception:
        return PermanentError(
            "the stored PMS keys cannot be read (the service's secret key may have changed)",
            "An admin must enter the PMS connection's keys again, then retry",
        )


async def _call_pms(deps: PostingDeps, claim: _Claim) -> _Result:
    if isinstance(claim.credentials, PermanentError):
        return _Result(AttemptOutcome.PERMANENT_ERROR, {}, claim.credentials)
    written: dict[str, str] = {}
    found_all = True
    try:
        connector: PmsConnector = deps.registry.connector_for(claim.credentials)
        async with deps.gate.hold(claim.credentials.connection_key):
            for part in claim.parts:
                if part.name in claim.posted_parts:
                    continue
                if claim.reconcile_first:
                    found = await posting_parts.find(connector, part, claim.lookup_since)
                    if found is not None:
                        written[part.name] = found.record_id
                        continue
                if claim.provider_ref is not None:
                    await writeback_provider.require_active(
                        deps.cache, connector, claim.credentials.connection_key, claim.provider_ref
                    )
                async with _exclusively(deps, claim.credentials.connection_key, part):
                    record = await posting_parts.post(connector, part)
                written[part.name] = record.record_id
                found_all = False
        outcome = (
            AttemptOutcome.FOUND_EXISTING if found_all and written else AttemptOutcome.SUCCEEDED
        )
        return _Result(outcome, written)
    except Throttled as exc:
        return _Result(AttemptOutcome.THROTTLED, written, exc)
    except TransientError as exc:
        return _Result(AttemptOutcome.TRANSIENT_ERROR, written, exc)
    except PermanentError as exc:
        return _Result(AttemptOutcome.PERMANENT_ERROR, written, exc)
    except ConnectorError as exc:
        return _Result(AttemptOutcome.OUTCOME_UNKNOWN, written, exc)
    except Exception as exc:
        # A bug or an unmapped library error. It may have happened after sending, so it is
        # treated as possibly applied. Only the type is logged: messages may carry PHI.
        log.error(
            "unexpected error while posting",
            extra={"intent_id": claim.intent_id, "error": type(exc).__name__},
        )
        return _Result(
            AttemptOutcome.OUTCOME_UNKNOWN,
            written,
            ConnectorError(f"unexpected {type(exc).__name__}"),
        )


def _exclusively(
    deps: PostingDeps, connection_key: str, part: Part
) -> AbstractAsyncContextManager[None]:
    if part.exclusive_key is None:
        return nullcontext()
    return deps.gate.hold(f"{connection_key}:{part.exclusive_key}", limit=1)


async def _record(
    new_uow: UowFactory, deps: PostingDeps, claim: _Claim, result: _Result
) -> PostingOutcome:
    outcome, error = result.outcome, result.error
    async with new_uow() as uow:
        intent = await uow.intents.get(claim.intent_id, for_update=True)
        assert intent is not None
        attempts = list(await uow.attempts.for_intents([intent.id]))
        attempt = next(a for a in attempts if a.id == claim.attempt_id)
        now = utcnow()
        attempt.outcome = outcome.value
        attempt.finished_at = now
        attempt.error = error.message if error else None
        attempt.pms_record_id = next(iter(result.written.values()), None)
        if (
            intent.attempt_count != claim.attempt_number
            or intent.status != WritebackStatus.POSTING.value
        ):
            # Our claim expired and another worker took over; it reconciles by marker, so
            # only our attempt row is recorded here.
            await uow.commit()
            return PostingOutcome(None)

        posted = {**claim.posted_parts, **result.written}
        if result.written:
            # A new dict, so the JSON column sees the change.
            intent.payload = {**intent.payload, "posted_parts": posted}
        intent.claim_expires_at = None
        intent.updated_at = now
        defer: float | None = None
        if outcome in (AttemptOutcome.SUCCEEDED, AttemptOutcome.FOUND_EXISTING):
            _finish(intent, WritebackStatus.SUCCEEDED, now)
            intent.pms_record_id = posted[claim.parts[0].name]
            await resolve_recovered(uow, intent)
        elif outcome is AttemptOutcome.PERMANENT_ERROR:
            assert isinstance(error, PermanentError)
            await _fail(uow, deps, intent, now, error.message, error.hint, posted)
        else:
            counted = sum(
                1
                for a in attempts
                if a.number > intent.budget_start_attempt and a.outcome in _COUNTED
            )
            throttled = sum(
                1
                for a in attempts
                if a.number > intent.budget_start_attempt
                and a.outcome == AttemptOutcome.THROTTLED.value
            )
            if deps.retry_policy.exhausted(counted) or throttled >= MAX_THROTTLED_ATTEMPTS:
                reason, hint = _exhausted_reason(outcome, intent, error)
                await _fail(uow, deps, intent, now, reason, hint, posted)
            else:
                defer = _retry_delay(deps, outcome, error, counted)
                new_status = (
                    WritebackStatus.UNKNOWN
                    if outcome is AttemptOutcome.OUTCOME_UNKNOWN
                    else WritebackStatus.RETRYING
                )
                check_transition(WritebackStatus.POSTING, new_status)
                intent.status = new_status.value
                intent.next_attempt_at = now + timedelta(seconds=defer)
        await uow.flush()
        publish_status(uow, intent)
        await uow.commit()
        log.info(
            "writeback attempt recorded",
            extra={
                "intent_id": intent.id,
                "attempt": claim.attempt_number,
                "outcome": outcome.value,
            },
        )
        return PostingOutcome(WritebackStatus(intent.status), defer)


def _retry_delay(
    deps: PostingDeps, outcome: AttemptOutcome, error: ConnectorError | None, counted: int
) -> float:
    retry_after = error.retry_after if isinstance(error, TransientError) else None
    if outcome is AttemptOutcome.THROTTLED:
        # Held back by our own throttle or cap: come back when a place is free, spread a
        # little so waiting postings do not return all at once.
        return (retry_after or 1.0) * random.uniform(1.0, 1.5)
    delay = deps.retry_policy.delay(max(counted, 1), retry_after)
    if outcome is AttemptOutcome.OUTCOME_UNKNOWN:
        delay = max(delay, deps.unknown_settle_seconds)
    return delay


def _finish(intent: WritebackIntent, status: WritebackStatus, now: datetime) -> None:
    check_transition(WritebackStatus(intent.status), status)
    intent.status = status.value
    intent.next_attempt_at = None
    intent.completed_at = now
    intent.failure_reason = None
    intent.failure_hint = None


async def _fail(
    uow: UnitOfWork,
    deps: PostingDeps,
    intent: WritebackIntent,
    now: datetime,
    reason: str,
    hint: str,
    posted: dict[str, str],
) -> None:
    """Failed for good; `partial` when some of its parts did reach the PMS, so nobody
    mistakes a half-written payment for one that is not there at all."""
    if posted:
        _finish(intent, WritebackStatus.PARTIAL, now)
        intent.pms_record_id = next(iter(posted.values()))
        reason = f"only part was written ({', '.join(sorted(posted))}); the rest failed: {reason}"
    else:
        _finish(intent, WritebackStatus.FAILED, now)
    intent.failure_reason = reason
    intent.failure_hint = hint
    await raise_writeback_failed(uow, intent, deps.notices)


def _exhausted_reason(
    outcome: AttemptOutcome, intent: WritebackIntent, error: ConnectorError | None
) -> tuple[str, str]:
    last = error.message if error else "no answer"
    if outcome is AttemptOutcome.OUTCOME_UNKNOWN:
        return (
            f"the PMS did not confirm the write after several tries (last: {last})",
            f"Look in the PMS for a {intent.kind} whose note contains [WB:{intent.marker}] "
            "before retrying; a retry looks for it first and never posts twice",
        )
    return (
        f"the PMS could not be reached after several tries (last: {last})",
        "Check that the PMS and its API service are running, then retry",
    )
