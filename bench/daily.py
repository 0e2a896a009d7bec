"""Daily writeback runs of several locations at once, each against its own Open Dental throttle.

    .venv/bin/python -m bench.daily [--locations M] [--payments N] [--latency-ms L]
        [--interval S] [--sim-throttle-share F] [--database sqlite|postgres]
        [--loop asyncio|uvloop] [--timeout T] [--stall-timeout S]

One process, one run: a fresh database, a claimed Redis database number, the Open Dental
simulator (L ms latency per call, each customer key throttled at F * S, F=0.9), the API and
the arq worker. M locations of one organization, each with its own customer key and a
connection with writeIntervalSeconds = S, are set to daily timing; N payments per location
are submitted over GraphQL (they stay scheduled); then every location's daily run is
triggered at the same moment with runDailyWritebackNow, and the wall time from the trigger
to the last `succeeded` event is compared with the ideal N * S + L.
Everything listens on or talks to 127.0.0.1 only, is bounded by --timeout, and what the run
created (database, Redis contents, temp files) is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import platform
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func as sql_func
from sqlalchemy import select

from api.app import create_app
from app.bootstrap import Container, bootstrap
from app.config import Settings
from app.migrate import upgrade
from bench.payments import (
    MARKER_RE,
    PRACTICE_TZ,
    EventLog,
    LogTally,
    Submission,
    _bounded_int,
    _cancel,
    _round,
    _sample_running,
    check_posted,
    claimed_redis_db,
    database_counts,
    drain,
    fresh_database,
    percentile,
    run_benchmark,
    running_worker,
    served,
    submit_all,
    wait_for_subscriber,
)
from connectors.opendental.simulator import API_PREFIX, SimulatorState, create_simulator_app
from connectors.opendental.simulator import seed as sim_seed
from connectors.opendental.simulator.state import Row
from domain.enums import AttemptOutcome, PmsSystem, Role
from domain.events import writeback_channel
from domain.persistence.models import DailyRun, WritebackAttempt, WritebackIntent
from domain.services import connections, tenancy
from jobs.worker import build_worker

log = logging.getLogger("bench.daily")

# Open Dental's throttle runs on its own clock (the arrival of each call); ours reserves
# slots S apart on Redis's clock and then sleeps, connects and waits out the latency before
# the call arrives. Jitter between the two clocks (sleep overshoot, event-loop turns, HTTP)
# can bring two arrivals a few ms closer than S, which a throttle of exactly S would refuse
# with a 429 although the engine kept its interval. 0.9 * S leaves room for that jitter and
# still refuses any engine that ignored its interval.
DEFAULT_SIM_THROTTLE_SHARE = 0.9
SUBMIT_CONCURRENCY = 10

UPDATE_SETTINGS = """
mutation($input: PaymentWritebackSettingsInput!) {
  updatePaymentWritebackSettings(input: $input) {
    __typename
    ... on UpdatePaymentWritebackSettingsSuccess { settings { timing dailyTime } }
    ... on UserError { message }
    ... on ValidationError { fields { field message } }
  }
}"""

RUN_DAILY_WRITEBACK_NOW = """
mutation($locationId: ID!) {
  runDailyWritebackNow(locationId: $locationId) {
    __typename
    ... on RunDailyWritebackNowSuccess { run { id runKey status } }
    ... on UserError { message }
  }
}"""


# ---------------------------------------------------------------------------- simulator


class MeteredSimulator(SimulatorState):
    """The simulator, also counting each customer key's calls its throttle let through or
    refused (429), and noting when each payment row carrying a marker was stored."""

    def __init__(self, *, throttle_interval_seconds: float) -> None:
        self.admitted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.stored_at: dict[str, float] = {}
        super().__init__(throttle_interval_seconds=throttle_interval_seconds)

    def admit(self, customer_key: str) -> float | None:
        wait = super().admit(customer_key)
        (self.admitted if wait is None else self.refused)[customer_key] += 1
        return wait

    def add_payment(self, *args: Any, **kwargs: Any) -> Row:
        row = super().add_payment(*args, **kwargs)
        for marker in MARKER_RE.findall(str(row.get("PayNote", ""))):
            self.stored_at.setdefault(marker, time.perf_counter())
        return row


# ---------------------------------------------------------------------------- setup


@dataclass
class Site:
    """One location of the benchmark's organization, with its own Open Dental customer key."""

    index: int
    location_id: str
    customer_key: str
    submissions: list[Submission] = field(default_factory=list)
    trigger_answered: float = math.nan
    run_id: str | None = None
    trigger_error: str | None = None

    @property
    def accepted(self) -> list[Submission]:
        return [s for s in self.submissions if s.writeback_id]


@dataclass
class Organization:
    admin_key: str
    staff_key: str
    sites: list[Site]


async def create_organization(
    container: Container, sim: SimulatorState, sim_api_url: str, locations: int, interval: float
) -> Organization:
    """One organization, M locations with a key each, connected with writeIntervalSeconds=S."""
    run = uuid.uuid4().hex[:6]
    async with container.uow() as uow:
        _, admin = await tenancy.create_organization(uow, f"Bench Dental Group {run}")
        await uow.commit()
    async with container.uow() as uow:
        principal = await tenancy.authenticate(uow, admin.secret)
        assert principal is not None
        sites: list[Site] = []
        for i in range(locations):
            location = await tenancy.create_location(
                uow, principal, f"Bench Dental {i + 1}", str(PRACTICE_TZ)
            )
            key = f"bench-{run}-customer-{i + 1}"
            sim.add_customer_key(key)
            await connections.set_connection(
                uow,
                principal,
                container.secret_box,
                container.registry,
                location_id=location.id,
                system=PmsSystem.OPEN_DENTAL,
                base_url=sim_api_url,
                developer_key=sim.developer_key,
                customer_key=key,
                write_interval_seconds=interval,
            )
            sites.append(Site(i, location.id, key))
        staff = await tenancy.create_api_key(uow, principal, "front desk", Role.STAFF, [])
        await uow.commit()
    return Organization(admin.secret, staff.secret, sites)


def far_daily_time() -> str:
    """A daily time about 12 hours away, so the sweeper's own run for the latest due day
    has its cut-off hours before any payment here and never takes them."""
    return (datetime.now(PRACTICE_TZ) + timedelta(hours=12)).strftime("%H:%M")


async def set_daily(client: httpx.AsyncClient, site: Site, card_type: str, daily_time: str) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": UPDATE_SETTINGS,
            "variables": {
                "input": {
                    "locationId": site.location_id,
                    "timing": "DAILY",
                    "dailyTime": daily_time,
                    "payTypes": [{"payType": card_type, "method": "CARD"}],
                }
            },
        },
    )
    result = ((response.json().get("data") or {}).get("updatePaymentWritebackSettings")) or {}
    if result.get("__typename") != "UpdatePaymentWritebackSettingsSuccess":
        raise RuntimeError(f"setting location {site.index + 1} to daily failed: {response.text}")


async def trigger(client: httpx.AsyncClient, site: Site) -> None:
    try:
        response = await client.post(
            "/graphql",
            json={
                "query": RUN_DAILY_WRITEBACK_NOW,
                "variables": {"locationId": site.location_id},
            },
        )
        site.trigger_answered = time.perf_counter()
        result = ((response.json().get("data") or {}).get("runDailyWritebackNow")) or {}
        if result.get("__typename") == "RunDailyWritebackNowSuccess":
            site.run_id = str(result["run"]["id"])
        else:
            site.trigger_error = f"HTTP {response.status_code}: {response.text[:200]}"
    except (httpx.HTTPError, ValueError) as exc:
        site.trigger_answered = time.perf_counter()
        site.trigger_error = f"{type(exc).__name__}: {exc}"


def loopback_client(base_url: str, key: str, connections_: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        trust_env=False,  # loopback only: never through a proxy from the env
        limits=httpx.Limits(max_connections=connections_, max_keepalive_connections=connections_),
    )


# ---------------------------------------------------------------------------- measuring


@dataclass
class JobLog:
    """What the arq worker saw: first start of each posting and daily-run job, its lateness
    against the time it was deferred to (arq's score), and the highest try."""

    started: dict[str, float] = field(default_factory=dict)
    late: dict[str, float] = field(default_factory=dict)
    tries: Counter[str] = field(default_factory=Counter)
    run_started: dict[str, float] = field(default_factory=dict)

    async def on_job_start(self, ctx: dict[str, Any]) -> None:
        now, wall = time.perf_counter(), time.time()
        job_id = str(ctx.get("job_id", ""))
        if job_id.startswith("post:"):  # post:<kind>:<intent id>
            intent_id = job_id.split(":", 2)[2]
            self.tries[intent_id] = max(self.tries[intent_id], int(ctx.get("job_try") or 1))
            if intent_id not in self.started:
                self.started[intent_id] = now
                score = ctx.get("score")
                if isinstance(score, int | float):
                    self.late[intent_id] = wall - score / 1000
        elif job_id.startswith("daily:"):  # daily:<run id>
            self.run_started.setdefault(job_id.split(":", 1)[1], now)


async def listen(
    container: Container, channel: str, events: EventLog, reasons: Counter[str]
) -> None:
    async with aclosing(container.events.subscribe(channel)) as stream:
        async for event in stream:
            events.record(event, time.perf_counter())
            if event.get("reason"):  # failed and partial items carry one
                reasons[f"{event.get('status')}: {event.get('reason')}"] += 1


@dataclass
class SiteFigures:
    index: int
    items: int
    succeeded: int
    run_items: int | None
    trigger_answer_s: float
    run_job_start_s: float
    first_queued_s: float
    first_succeeded_s: float
    done_s: float
    write_gap_mean_s: float
    write_gap_min_s: float
    refused_429: int
    pms_calls: int
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "location": self.index + 1,
            "items": self.items,
            "succeeded": self.succeeded,
            "run_items": self.run_items,
            "trigger_answer_s": _round(self.trigger_answer_s, 3),
            "run_job_start_s": _round(self.run_job_start_s, 3),
            "first_queued_s": _round(self.first_queued_s, 3),
            "first_succeeded_s": _round(self.first_succeeded_s, 3),
            "done_s": _round(self.done_s, 3),
            "write_gap_mean_s": _round(self.write_gap_mean_s, 3),
            "write_gap_min_s": _round(self.write_gap_min_s, 3),
            "pms_429": self.refused_429,
            "pms_calls": self.pms_calls,
        }


@dataclass
class Result:
    wall_s: float
    ideal_s: float
    sites: list[SiteFigures]
    pms_429: int
    pms_429_setup: int
    pms_calls: int
    retrying_events: int
    unknown_events: int
    reasons: Counter[str]
    max_job_try: int
    attempt_outcomes: dict[str, int]
    most_attempts: int
    most_counted: int
    retry_budget: int
    jobs_peak: tuple[int, int]
    floor_s: float
    breakdown: dict[str, tuple[float, float, float]]
    correctness: dict[str, Any]
    submit_errors: list[str]
    not_scheduled: int
    submit_seconds: float

    @property
    def ratio(self) -> float:
        return self.wall_s / self.ideal_s if self.ideal_s > 0 else math.nan

    @property
    def floor_ratio(self) -> float:
        return self.wall_s / self.floor_s if self.floor_s > 0 else math.nan


def _nan_max(values: Iterable[float]) -> float:
    found = [v for v in values if not math.isnan(v)]
    return max(found) if found else math.nan


def _nan_min(values: Iterable[float]) -> float:
    found = [v for v in values if not math.isnan(v)]
    return min(found) if found else math.nan


def _stages(
    starts: dict[str, float], ends: dict[str, float], keys: Iterable[str]
) -> tuple[float, float, float]:
    """p50, p99 and max of end - start over `keys` (seconds)."""
    values = [ends[k] - starts[k] for k in keys if k in starts and k in ends]
    return percentile(values, 50), percentile(values, 99), max(values, default=math.nan)


async def run_counts(container: Container, run_ids: Sequence[str]) -> dict[str, int]:
    async with container.sessions() as session:
        rows = await session.execute(
            select(DailyRun.id, DailyRun.item_count).where(DailyRun.id.in_(list(run_ids)))
        )
        return {str(run_id): int(count) for run_id, count in rows.all()}


async def attempt_figures(container: Container) -> tuple[dict[str, int], int, int]:
    """Attempts by outcome (transient_error: e.g. a PMS 429; throttled: held back by our own
    throttle or per-connection cap), the most attempts one payment needed, and the most
    attempts of one payment that spend the retry budget (transient or unknown)."""
    async with container.sessions() as session:
        rows = await session.execute(
            select(WritebackAttempt.outcome, sql_func.count()).group_by(WritebackAttempt.outcome)
        )
        outcomes = {str(outcome): int(count) for outcome, count in rows.all()}
        most = (await session.execute(select(sql_func.max(WritebackIntent.attempt_count)))).scalar()
        counted = (
            await session.execute(
                select(WritebackAttempt.intent_id, sql_func.count())
                .where(
                    WritebackAttempt.outcome.in_(
                        [AttemptOutcome.TRANSIENT_ERROR.value, AttemptOutcome.OUTCOME_UNKNOWN.value]
                    )
                )
                .group_by(WritebackAttempt.intent_id)
            )
        ).all()
    return outcomes, int(most or 0), max((int(n) for _, n in counted), default=0)


async def bench_daily(args: argparse.Namespace, settings: Settings, redis_url: str) -> Result:
    await asyncio.to_thread(upgrade, settings.database_url)
    sim = MeteredSimulator(throttle_interval_seconds=args.sim_throttle_share * args.interval)
    sim.faults.latency_ms = args.latency_ms
    container = await bootstrap(settings, redis_url=redis_url)
    try:
        async with contextlib.AsyncExitStack() as stack:
            sim_url = await stack.enter_async_context(served(create_simulator_app(sim), "off"))
            org = await create_organization(
                container, sim, sim_url + API_PREFIX, args.locations, args.interval
            )
            api_url = await stack.enter_async_context(served(create_app(container), "on"))
            worker = await build_worker(container, handle_signals=False)
            jobs = JobLog()
            worker.on_job_start = jobs.on_job_start
            await stack.enter_async_context(running_worker(worker))
            lanes = max(SUBMIT_CONCURRENCY, args.locations)
            admin = await stack.enter_async_context(
                loopback_client(api_url, org.admin_key, args.locations)
            )
            staff = await stack.enter_async_context(loopback_client(api_url, org.staff_key, lanes))

            # Daily timing (one PMS read per location: the payment types are checked).
            card = next(
                str(d["DefNum"])
                for d in sim.definitions
                if d["ItemName"] == "Credit Card" and d["Category"] == sim_seed.PAYMENT_TYPES
            )
            daily_time = far_daily_time()
            await asyncio.gather(*(set_daily(admin, s, card, daily_time) for s in org.sites))

            # N payments per location, all locations interleaved, a few at a time.
            run = uuid.uuid4().hex[:8]
            submit_began = time.perf_counter()

            async def submit_site(site: Site) -> None:
                ids = [f"bench-{run}-{site.index + 1}-{i}" for i in range(args.payments)]
                site.submissions = await submit_all(
                    staff,
                    site.location_id,
                    ids,
                    max(1, SUBMIT_CONCURRENCY // args.locations),
                    site.index * args.payments,
                )

            await asyncio.gather(*(submit_site(s) for s in org.sites))
            submit_seconds = time.perf_counter() - submit_began

            # Live events of every location, subscribed before the trigger.
            events = EventLog()
            reasons: Counter[str] = Counter()
            for site in org.sites:
                channel = writeback_channel(site.location_id)
                task = asyncio.create_task(listen(container, channel, events, reasons))
                stack.push_async_callback(_cancel, task)
                await wait_for_subscriber(container, channel)

            # Setup's PMS reads are behind us: let each key's throttle window pass.
            await asyncio.sleep(max(args.interval, 0.2))
            admitted0, refused0 = Counter(sim.admitted), Counter(sim.refused)

            running: list[int] = []
            sampler = asyncio.create_task(_sample_running(worker, running))
            stack.push_async_callback(_cancel, sampler)
            began = time.perf_counter()
            await asyncio.gather(*(trigger(staff, s) for s in org.sites))
            accepted = [s for site in org.sites for s in site.accepted]
            await drain(
                events, (s.writeback_id for s in accepted if s.writeback_id), args.stall_timeout
            )
            # A moment for anything late (a duplicate post would show up here).
            await asyncio.sleep(0.5)

            counts = await run_counts(container, [s.run_id for s in org.sites if s.run_id])
            statuses, attempts = await database_counts(container)
            outcomes, most_attempts, most_counted = await attempt_figures(container)
            sampler.cancel()
            return _result(
                args,
                org,
                sim,
                events,
                reasons,
                jobs,
                began,
                counts,
                statuses,
                attempts,
                outcomes,
                most_attempts,
                most_counted,
                (max(running, default=0), container.settings.worker_max_jobs),
                container.settings.retry_max_attempts,
                admitted0,
                refused0,
                submit_seconds,
            )
    finally:
        sim.release_pauses()
        try:
            await asyncio.wait_for(container.close(), 20)
        except TimeoutError:
            log.error("closing the container took over 20 s; going on with the clean-up")


def _result(
    args: argparse.Namespace,
    org: Organization,
    sim: MeteredSimulator,
    events: EventLog,
    reasons: Counter[str],
    jobs: JobLog,
    began: float,
    run_items: dict[str, int],
    statuses: dict[str, int],
    attempts: int,
    outcomes: dict[str, int],
    most_attempts: int,
    most_counted: int,
    jobs_peak: tuple[int, int],
    retry_budget: int,
    admitted0: Counter[str],
    refused0: Counter[str],
    submit_seconds: float,
) -> Result:
    succeeded = events.first.get("succeeded", {})
    queued = events.first.get("queued", {})
    posting = events.first.get("posting", {})
    by_marker = {s.marker: s.writeback_id for site in org.sites for s in site.accepted}
    stored = {wb: sim.stored_at[m] for m, wb in by_marker.items() if m in sim.stored_at and wb}
    sites: list[SiteFigures] = []
    for site in org.sites:
        ids = [s.writeback_id for s in site.accepted if s.writeback_id]
        writes = sorted(stored[i] for i in ids if i in stored)
        gaps = [b - a for a, b in zip(writes, writes[1:], strict=False)]
        key = site.customer_key
        run_start = jobs.run_started.get(site.run_id or "", math.nan)
        sites.append(
            SiteFigures(
                index=site.index,
                items=len(ids),
                succeeded=sum(1 for i in ids if i in succeeded),
                run_items=run_items.get(site.run_id or ""),
                trigger_answer_s=site.trigger_answered - began,
                run_job_start_s=run_start - began,
                first_queued_s=_nan_min(queued.get(i, math.nan) for i in ids) - began,
                first_succeeded_s=_nan_min(succeeded.get(i, math.nan) for i in ids) - began,
                done_s=_nan_max(succeeded.get(i, math.nan) for i in ids) - began,
                write_gap_mean_s=sum(gaps) / len(gaps) if gaps else math.nan,
                write_gap_min_s=min(gaps, default=math.nan),
                refused_429=sim.refused[key] - refused0[key],
                pms_calls=sim.admitted[key] - admitted0[key] + sim.refused[key] - refused0[key],
                error=site.trigger_error,
            )
        )
    all_ids = [i for i in by_marker.values() if i]
    breakdown = {
        "arq job start - time deferred to": (
            percentile(list(jobs.late.values()), 50),
            percentile(list(jobs.late.values()), 99),
            max(jobs.late.values(), default=math.nan),
        ),
        "arq job start -> 'posting' event": _stages(jobs.started, posting, all_ids),
        "'posting' -> payment stored in PMS": _stages(posting, stored, all_ids),
        "payment stored -> 'succeeded' event": _stages(stored, succeeded, all_ids),
    }
    submissions = [s for site in org.sites for s in site.submissions]
    correctness = check_posted(sim, submissions)
    correctness.update(
        {
            "db_statuses": statuses,
            "db_attempts": attempts,
            "no_terminal_event": len(events.missing()),
            "succeeded_events_duplicated": sum(
                1 for (_, status), c in events.counts.items() if status == "succeeded" and c > 1
            ),
        }
    )
    return Result(
        wall_s=_nan_max(s.done_s for s in sites),
        ideal_s=args.payments * args.interval + args.latency_ms / 1000,
        sites=sites,
        pms_429=sum(s.refused_429 for s in sites),
        pms_429_setup=sum(refused0.values()),
        pms_calls=sum(s.pms_calls for s in sites),
        retrying_events=events.statuses["retrying"],
        unknown_events=events.statuses["unknown"],
        reasons=reasons,
        max_job_try=max(jobs.tries.values(), default=0),
        attempt_outcomes=outcomes,
        most_attempts=most_attempts,
        most_counted=most_counted,
        retry_budget=retry_budget,
        jobs_peak=jobs_peak,
        # The run queues its first item at once and the last one (N - 1) x S later.
        floor_s=(args.payments - 1) * args.interval + args.latency_ms / 1000,
        breakdown=breakdown,
        correctness=correctness,
        submit_errors=[f"{s.payment_id}: {s.error}" for s in submissions if s.error],
        not_scheduled=sum(1 for s in submissions if s.status and s.status != "SCHEDULED"),
        submit_seconds=submit_seconds,
    )


# ---------------------------------------------------------------------------- report


def _f(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def report(args: argparse.Namespace, result: Result, tally: LogTally, elapsed: float) -> bool:
    c = result.correctness
    ok = (
        bool(c["ok"])
        and not result.submit_errors
        and not any(s.error for s in result.sites)
        and result.not_scheduled == 0
    )
    print()
    print(
        f"daily benchmark: M={args.locations} locations x N={args.payments} payments, "
        f"writeIntervalSeconds S={args.interval}, PMS latency L={args.latency_ms} ms, "
        f"simulator throttle {args.sim_throttle_share * args.interval:.3f} s per customer key, "
        f"database={args.database}, python {platform.python_version()}"
    )
    print(
        f"setup: {len(result.sites)} locations, {c['submitted']} payments submitted in "
        f"{result.submit_seconds:.1f} s, not left scheduled {result.not_scheduled}"
    )
    print()
    print(f"run wall time (trigger -> last 'succeeded')   {_f(result.wall_s)} s")
    print(f"ideal (N x S + L)                              {_f(result.ideal_s)} s")
    print(f"ratio wall / ideal                             {_f(result.ratio, 3)}")
    print(
        f"  (the run's own schedule: (N - 1) x S + L = {_f(result.floor_s)} s; "
        f"wall / that {_f(result.floor_ratio, 3)})"
    )
    print()
    print(
        f"{'location':>8}{'items':>7}{'run items':>10}{'trigger ans':>12}{'run job':>9}"
        f"{'1st queued':>11}{'1st done':>10}{'last done':>10}{'gap mean':>10}{'gap min':>9}"
        f"{'PMS calls':>10}{'429s':>6}"
    )
    for s in result.sites:
        print(
            f"{s.index + 1:>8}{f'{s.succeeded}/{s.items}':>7}"
            f"{'-' if s.run_items is None else s.run_items:>10}"
            f"{_f(s.trigger_answer_s, 3):>12}{_f(s.run_job_start_s, 3):>9}"
            f"{_f(s.first_queued_s, 3):>11}{_f(s.first_succeeded_s, 3):>10}"
            f"{_f(s.done_s, 3):>10}{_f(s.write_gap_mean_s, 3):>10}{_f(s.write_gap_min_s, 3):>9}"
            f"{s.pms_calls:>10}{s.refused_429:>6}"
        )
        if s.error:
            print(f"          trigger error: {s.error}")
    print("  (times in seconds from the trigger; gaps between the location's stored payments)")
    print()
    print("per payment (p50 / p99 / max ms):")
    for label, (p50, p99, top) in result.breakdown.items():
        print(f"  {label:40}{_f(p50 * 1000, 1):>9}{_f(p99 * 1000, 1):>9}{_f(top * 1000, 1):>9}")
    print()
    print(
        f"PMS 429s (simulator throttle refusals) during the run: {result.pms_429} of "
        f"{result.pms_calls} calls (during setup: {result.pms_429_setup}); 'retrying' events "
        f"{result.retrying_events}, 'unknown' events {result.unknown_events}; highest arq "
        f"try of a posting job {result.max_job_try}"
    )
    print(
        f"attempts by outcome {result.attempt_outcomes}; most attempts for one payment "
        f"{result.most_attempts}, of which spending the retry budget {result.most_counted} "
        f"(budget {result.retry_budget}); arq jobs running at once, peak "
        f"{result.jobs_peak[0]} of max_jobs {result.jobs_peak[1]}"
    )
    for reason, count in result.reasons.most_common(5):
        print(f"  {count:5} x {reason}")
    print(
        f"correctness: {c['posted_exactly_once']}/{c['accepted']} accepted payments posted "
        f"exactly once (of {c['submitted']} submitted); not posted {c['not_posted']}, "
        f"duplicated {c['posted_more_than_once']}, unexpected rows {c['unexpected_rows']} "
        f"-> {'OK' if c['ok'] else 'PROBLEM'}"
    )
    print(
        f"  db statuses {c['db_statuses']}, attempts {c['db_attempts']}; without a terminal "
        f"event {c['no_terminal_event']}, 'succeeded' received twice "
        f"{c['succeeded_events_duplicated']}"
    )
    for error in result.submit_errors[:5]:
        print(f"  submit error: {error}")
    warnings = sum(tally.counts.values())
    print(f"warnings/errors logged: {warnings}")
    for (level, name, message), count in tally.counts.most_common(8):
        print(f"  {count:5} x {level} {name}: {message}")
    print(f"total time {elapsed:.1f} s")
    summary = {
        "bench": "daily",
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "locations": args.locations,
        "payments_per_location": args.payments,
        "latency_ms": args.latency_ms,
        "interval_s": args.interval,
        "sim_throttle_s": round(args.sim_throttle_share * args.interval, 4),
        "database": args.database,
        "wall_s": _round(result.wall_s, 3),
        "ideal_s": _round(result.ideal_s, 3),
        "ratio": _round(result.ratio, 3),
        "schedule_floor_s": _round(result.floor_s, 3),
        "ratio_to_floor": _round(result.floor_ratio, 3),
        "per_location": [s.as_json() for s in result.sites],
        "breakdown_ms": {
            k: [_round(v * 1000, 1) for v in values] for k, values in result.breakdown.items()
        },
        "pms_429": result.pms_429,
        "pms_429_setup": result.pms_429_setup,
        "pms_calls": result.pms_calls,
        "retrying_events": result.retrying_events,
        "unknown_events": result.unknown_events,
        "max_job_try": result.max_job_try,
        "attempt_outcomes": result.attempt_outcomes,
        "most_attempts": result.most_attempts,
        "most_budget_attempts": result.most_counted,
        "arq_running_jobs_peak": result.jobs_peak[0],
        "posted_exactly_once": c["posted_exactly_once"],
        "accepted": c["accepted"],
        "not_posted": c["not_posted"],
        "duplicated": c["posted_more_than_once"],
        "correct": ok,
        "submit_errors": len(result.submit_errors),
        "log_warnings": warnings,
    }
    print(json.dumps(summary, separators=(",", ":")))
    return ok


# ---------------------------------------------------------------------------- main


async def main(args: argparse.Namespace, tally: LogTally) -> int:
    began = time.perf_counter()
    token = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="wb-bench-daily-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            async with asyncio.timeout(args.timeout):
                redis = await stack.enter_async_context(claimed_redis_db(token))
                database_url = await stack.enter_async_context(
                    fresh_database(args.database, Path(tmp))
                )
                settings = Settings(
                    database_url=database_url,
                    redis_url=redis.url,
                    secret_key=secrets.token_urlsafe(32),
                )
                result = await bench_daily(args, settings, redis.url)
        ok = report(args, result, tally, time.perf_counter() - began)
    return 0 if ok else 1


def _positive_float(high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"must be above 0 and at most {high}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.daily", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--locations", type=_bounded_int(1, 50), default=5, help="M")
    parser.add_argument(
        "--payments", type=_bounded_int(1, 1000), default=20, help="N, per location"
    )
    parser.add_argument(
        "--latency-ms", type=_bounded_int(0, 10_000), default=150, help="L, per PMS call"
    )
    parser.add_argument(
        "--interval",
        type=_positive_float(60.0),
        default=1.0,
        help="S: the connections' writeIntervalSeconds, in seconds",
    )
    parser.add_argument(
        "--sim-throttle-share",
        type=_positive_float(10.0),
        default=DEFAULT_SIM_THROTTLE_SHARE,
        help="the simulator throttles each customer key at this share of S (default 0.9)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="uvloop",
        help="uvloop is what `writeback serve/worker/local` run on (app.runtime)",
    )
    parser.add_argument("--timeout", type=_bounded_int(10, 3600), default=180, help="seconds")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=30.0,
        help="stop waiting when no payment finished for this many seconds",
    )
    args = parser.parse_args(argv)
    floor = args.payments * args.interval + 30
    if args.timeout < floor:
        parser.error(f"--timeout must leave room for the run: at least N x S + 30 = {floor:.0f}")
    return args


def run(argv: Sequence[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), main)


if __name__ == "__main__":
    sys.exit(run())
