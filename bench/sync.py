"""PMS sync polling: L locations x 3 resources at their default intervals, for a fixed period.

    .venv/bin/python -m bench.sync [--locations L] [--period P] [--latency-ms M]
        [--database sqlite|postgres] [--loop asyncio|uvloop] [--timeout T]

One process, one run: a fresh database, a claimed Redis database number, the Open Dental
simulator (M ms latency per call; each location has its own customer key, throttled at one
call per 0.9 s as a key with write permission is, and its connection's throttle at 1 s) and
the arq worker with its scheduler tick. Every location turns on appointment status (15 s),
appointments (60 s) and patients (30 s). After one longest interval of warm-up (every member
has had its first tick), polls are observed for P seconds.

Printed: polls per second achieved against the schedule's ideal (L x (1/15 + 1/60 + 1/30)),
the process's CPU share over the period (worker and simulator share this process; no API),
the mean interval drift (|time between two starts of one member - its interval|) and the
mean start lateness (start - due), plus poll outcomes and PMS calls. Loopback only, bounded
by --timeout; what the run created is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.bootstrap import Container, bootstrap
from app.config import Settings
from app.migrate import upgrade
from bench.payments import (
    PRACTICE_TZ,
    LogTally,
    _bounded_int,
    claimed_redis_db,
    fresh_database,
    run_benchmark,
    running_worker,
    served,
)
from connectors.opendental.simulator import API_PREFIX, SimulatorState, create_simulator_app
from domain.enums import PmsSystem, Role
from domain.principal import Principal
from domain.services import connections, sync_settings, tenancy
from domain.sync_settings import DEFAULT_INTERVAL_SECONDS, SyncResource
from jobs.worker import build_worker

CONNECTION_INTERVAL_SECONDS = 1.0
SIM_THROTTLE_SECONDS = 0.9


class MeteredSimulator(SimulatorState):
    """Counts the calls each key's throttle let through or refused."""

    def __init__(self, *, throttle_interval_seconds: float) -> None:
        self.admitted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        super().__init__(throttle_interval_seconds=throttle_interval_seconds)

    def admit(self, customer_key: str) -> float | None:
        wait = super().admit(customer_key)
        (self.admitted if wait is None else self.refused)[customer_key] += 1
        return wait


async def setup(container: Container, sim: MeteredSimulator, base_url: str, count: int) -> None:
    async with container.uow() as uow:
        organization, issued = await tenancy.create_organization(uow, "Sync Bench")
        await uow.commit()
    admin = Principal(issued.key.id, organization.id, Role.ADMIN)
    everything = dict.fromkeys(SyncResource, (True, None))
    for index in range(count):
        customer_key = f"bench-key-{index}"
        sim.add_customer_key(customer_key)
        async with container.uow() as uow:
            location = await tenancy.create_location(uow, admin, f"Site {index}", str(PRACTICE_TZ))
            await connections.set_connection(
                uow,
                admin,
                container.secret_box,
                container.registry,
                location_id=location.id,
                system=PmsSystem.OPEN_DENTAL,
                base_url=base_url,
                developer_key=sim.developer_key,
                customer_key=customer_key,
                write_interval_seconds=CONNECTION_INTERVAL_SECONDS,
            )
            await uow.commit()
        async with container.uow() as uow:
            await sync_settings.update_settings(uow, admin, location.id, everything, None)
            await uow.commit()


def figures(
    stats: list[tuple[str, str, int, float, str]], start_ms: float, end_ms: float
) -> dict[str, Any]:
    window = [s for s in stats if start_ms <= s[2] < end_ms]
    starts: dict[tuple[str, str], list[float]] = defaultdict(list)
    for location_id, resource, _due, started, _result in sorted(stats, key=lambda s: s[3]):
        starts[(location_id, resource)].append(started)
    drifts = []
    for (_, resource), times in starts.items():
        interval_ms = DEFAULT_INTERVAL_SECONDS[SyncResource(resource)] * 1000
        for a, b in zip(times, times[1:], strict=False):
            if start_ms <= a < end_ms:
                drifts.append(abs((b - a) - interval_ms))
    lateness = [max(s[3] - s[2], 0.0) for s in window]
    return {
        "polls": len(window),
        "outcomes": dict(Counter(s[4] for s in window)),
        "mean_drift_ms": statistics.fmean(drifts) if drifts else float("nan"),
        "p95_drift_ms": _p95(drifts),
        "mean_lateness_ms": statistics.fmean(lateness) if lateness else float("nan"),
        "p95_lateness_ms": _p95(lateness),
    }


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def bench_sync(
    args: argparse.Namespace, settings: Settings, redis_url: str
) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, settings.database_url)
    sim = MeteredSimulator(throttle_interval_seconds=SIM_THROTTLE_SECONDS)
    sim.faults.latency_ms = args.latency_ms
    container = await bootstrap(settings, redis_url=redis_url)
    stats: list[tuple[str, str, int, float, str]] = []
    container.extras["sync_stats"] = stats
    try:
        async with contextlib.AsyncExitStack() as stack:
            sim_url = await stack.enter_async_context(served(create_simulator_app(sim), "off"))
            await setup(container, sim, sim_url + API_PREFIX, args.locations)
            worker = await build_worker(container, handle_signals=False)
            await stack.enter_async_context(running_worker(worker))
            warmup = max(DEFAULT_INTERVAL_SECONDS.values()) + 2
            await asyncio.sleep(warmup)
            calls0, refused0 = sum(sim.admitted.values()), sum(sim.refused.values())
            cpu0, wall0 = time.process_time(), time.perf_counter()
            start_ms = time.time() * 1000
            await asyncio.sleep(args.period)
            end_ms = time.time() * 1000
            cpu = time.process_time() - cpu0
            wall = time.perf_counter() - wall0
            calls = sum(sim.admitted.values()) - calls0
            refused = sum(sim.refused.values()) - refused0
            # Polls due in the window but started after it are still counted when they end.
            await asyncio.sleep(2)
    finally:
        await container.close()
    result = figures(stats, start_ms, end_ms)
    ideal = args.locations * sum(1 / s for s in DEFAULT_INTERVAL_SECONDS.values())
    result.update(
        {
            "locations": args.locations,
            "period_s": args.period,
            "ideal_polls_per_s": ideal,
            "polls_per_s": result["polls"] / args.period,
            "cpu_share": cpu / wall,
            "pms_calls_per_s": calls / wall,
            "pms_calls_refused": refused,
        }
    )
    return result


def report(result: dict[str, Any]) -> bool:
    print(
        f"sync benchmark: {result['locations']} locations x 3 resources at default intervals "
        f"(15/60/30 s), {result['period_s']:.0f} s observed"
    )
    print(
        f"  polls/s achieved    {result['polls_per_s']:.3f}  vs ideal "
        f"{result['ideal_polls_per_s']:.3f}  "
        f"({100 * result['polls_per_s'] / result['ideal_polls_per_s']:.1f}%)"
    )
    print(
        f"  process CPU share   {100 * result['cpu_share']:.1f}% of one core (worker + simulator)"
    )
    print(
        f"  interval drift      mean {result['mean_drift_ms']:.1f} ms, "
        f"p95 {result['p95_drift_ms']:.1f} ms"
    )
    print(
        f"  start lateness      mean {result['mean_lateness_ms']:.1f} ms, "
        f"p95 {result['p95_lateness_ms']:.1f} ms (start - due)"
    )
    print(f"  poll outcomes       {result['outcomes']}")
    print(
        f"  PMS calls           {result['pms_calls_per_s']:.2f}/s, "
        f"{result['pms_calls_refused']} refused (429)"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "outcomes"}, default=str))
    stored = result["outcomes"].get("stored", 0)
    return bool(result["polls"]) and stored == result["polls"]


async def main(args: argparse.Namespace, tally: LogTally) -> int:
    token = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="wb-bench-sync-") as tmp:
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
                    worker_max_jobs=50,
                )
                result = await bench_sync(args, settings, redis.url)
    return 0 if report(result) else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sync", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--locations", type=_bounded_int(1, 2000), default=20, help="L")
    parser.add_argument("--period", type=_bounded_int(10, 3600), default=60, help="P, seconds")
    parser.add_argument("--latency-ms", type=_bounded_int(0, 5000), default=20, help="per call")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="uvloop")
    parser.add_argument("--timeout", type=_bounded_int(30, 7200), default=600, help="seconds")
    args = parser.parse_args(argv)
    if args.timeout < args.period + 120:
        parser.error("--timeout must leave room for set-up, warm-up and the period (P + 120)")
    return args


def run(argv: Sequence[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), main)


if __name__ == "__main__":
    sys.exit(run())
