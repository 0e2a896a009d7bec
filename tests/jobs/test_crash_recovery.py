"""Crashes and duplicate deliveries never produce a second PMS record."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import Container
from domain.services.posting import post_writeback
from jobs.context import CONTAINER
from jobs.sweeper import sweep_due_writebacks
from tests.fixtures.practice import Practice, postings_with
from tests.fixtures.stack import SECRET_KEY, eventually, start_worker, stop_worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # arq re-runs a job whose worker died once its in-progress key expires (timeout + 10 s);
    # our claim must outlast a live job, so it is a little longer than the job timeout.
    return {"job_timeout_seconds": 2.0, "posting_claim_seconds": 3.0}


async def test_a_worker_killed_after_the_pms_committed_leaves_exactly_one_posting(
    practice: Practice, opendental_simulator: Any, container: Container, database_url: str
) -> None:
    opendental_simulator.state.faults.hang_writes_after_commit(count=1, seconds=30)
    env = {
        **os.environ,
        "WRITEBACK_DATABASE_URL": database_url,
        "REDIS_URL": container.redis_url,
        "WRITEBACK_SECRET_KEY": SECRET_KEY,
        "WRITEBACK_JOB_TIMEOUT_SECONDS": "2",
        "WRITEBACK_POSTING_CLAIM_SECONDS": "3",
        "WRITEBACK_PMS_TIMEOUT_SECONDS": "20",
    }
    worker = subprocess.Popen(  # noqa: ASYNC220  (the real worker process, to be SIGKILLed)
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        submitted = (await practice.submit())["writeback"]

        async def committed_in_pms() -> bool:
            return bool(postings_with(opendental_simulator, submitted["marker"]))

        await eventually(committed_in_pms, timeout=30)
        worker.send_signal(signal.SIGKILL)  # dies while waiting for the PMS's answer
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert (await practice.writeback(submitted["id"]))["status"] == "POSTING"

    running = await start_worker(container)
    try:
        done = await practice.wait_for_status(submitted["id"], "SUCCEEDED", timeout=40)
    finally:
        await stop_worker(running)
    assert [a["outcome"] for a in done["attempts"]] == ["OUTCOME_UNKNOWN", "FOUND_EXISTING"]
    assert done["attempts"][0]["error"] == "the worker stopped before recording the outcome"
    assert len(postings_with(opendental_simulator, done["marker"])) == 1


async def test_the_same_writeback_delivered_twice_at_once_is_posted_once(
    practice: Practice, opendental_simulator: Any, container: Container
) -> None:
    await practice.settings(timing="DAILY")  # stays in the database; no job is enqueued
    submitted = (await practice.submit())["writeback"]
    async with container.uow() as uow:
        intent = await uow.intents.get(submitted["id"])
        assert intent is not None
        intent.status = "queued"
        await uow.commit()
    opendental_simulator.state.faults.latency_ms = 200

    outcomes = await asyncio.gather(
        *(post_writeback(container.uow, container.posting, submitted["id"]) for _ in range(4))
    )
    assert sorted(str(o.status) for o in outcomes).count("succeeded") == 1
    assert len(postings_with(opendental_simulator, submitted["marker"])) == 1
    assert opendental_simulator.state.post_count("payments") == 1


async def test_a_lost_claim_is_taken_over_after_it_expires_and_reconciled(
    practice: Practice, opendental_simulator: Any, container: Container
) -> None:
    opendental_simulator.state.faults.hang_writes_after_commit(count=1, seconds=30)
    submitted = (await practice.submit())["writeback"]
    running = await start_worker(container)

    async def committed_in_pms() -> bool:
        return bool(postings_with(opendental_simulator, submitted["marker"]))

    await eventually(committed_in_pms)
    await stop_worker(running)  # cancelled mid-call: the attempt has no outcome
    await asyncio.sleep(3.2)  # the claim expires
    assert await sweep_due_writebacks({CONTAINER: container}) == 1
    running = await start_worker(container)
    try:
        done = await practice.wait_for_status(submitted["id"], "SUCCEEDED")
    finally:
        await stop_worker(running)
    assert len(postings_with(opendental_simulator, done["marker"])) == 1
