"""The `writeback` console command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app import runtime
from app.config import Settings


def _require_redis(settings: Settings) -> str:
    if settings.redis_url is None:
        sys.exit("REDIS_URL is not set (use `writeback local` for the embedded defaults)")
    if len(settings.secret_key) < 16:
        sys.exit("WRITEBACK_SECRET_KEY must be set (at least 16 characters)")
    return settings.redis_url


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    from app.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the latest revision")


def cmd_create_organization(settings: Settings, args: argparse.Namespace) -> None:
    from app.database import create_engine
    from domain.services.tenancy import create_organization

    async def run() -> None:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        from domain.persistence.uow import UnitOfWork

        engine = create_engine(settings.database_url)

        class _Nothing:
            """Creating an organization enqueues and publishes nothing: no Redis needed."""

            async def enqueue(self, *_: object, **__: object) -> None: ...
            async def enqueue_posting(self, *_: object) -> None: ...
            async def publish(self, *_: object) -> None: ...

        try:
            async with UnitOfWork(
                async_sessionmaker(engine, expire_on_commit=False), _Nothing(), _Nothing()
            ) as uow:
                organization, issued = await create_organization(uow, args.name)
                await uow.commit()
        finally:
            await engine.dispose()
        print(f"organization  {organization.id}\nadmin API key {issued.secret}  (shown once)")

    runtime.run(run())


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    from api.app import create_app
    from app.bootstrap import bootstrap
    from app.servers import bound_socket

    redis_url = _require_redis(settings)

    async def run() -> None:
        import uvicorn

        container = await bootstrap(settings, redis_url=redis_url)
        runtime.settle_heap()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(container, owns_container=True), proxy_headers=True, lifespan="on"
            )
        )
        await server.serve(
            sockets=[bound_socket(args.host or settings.host, args.port or settings.port)]
        )

    runtime.run(run())


def cmd_worker(settings: Settings, _: argparse.Namespace) -> None:
    from app.bootstrap import bootstrap
    from jobs.worker import build_worker

    redis_url = _require_redis(settings)

    async def run() -> None:
        container = await bootstrap(settings, redis_url=redis_url)
        worker = await build_worker(container)
        runtime.settle_heap()
        try:
            await worker.async_run()
        finally:
            await worker.close()
            await container.close()

    runtime.run(run())


def cmd_local(settings: Settings, args: argparse.Namespace) -> None:
    from app.local_stack import LocalStackOptions, run_local_stack

    options = LocalStackOptions(
        state_dir=Path(args.state_dir),
        host=args.host,
        port=args.port,
        simulator_port=args.simulator_port,
    )
    runtime.run(run_local_stack(settings, options))


def cmd_simulator(_: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from connectors.opendental.simulator import SimulatorState, create_simulator_app

    state = SimulatorState(throttle_interval_seconds=args.throttle)
    print(f"developer key {state.developer_key}  customer key {next(iter(state.customer_keys))}")
    uvicorn.run(create_simulator_app(state), host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="writeback", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    org = sub.add_parser(
        "create-organization", help="create an organization and its first admin key"
    )
    org.add_argument("name")
    org.set_defaults(run=cmd_create_organization)
    serve = sub.add_parser("serve", help="run the GraphQL API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)
    sub.add_parser("worker", help="run the arq worker").set_defaults(run=cmd_worker)
    local = sub.add_parser(
        "local", help="everything in one process on embedded defaults, with a demo practice"
    )
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8000)
    local.add_argument("--simulator-port", type=int, default=8001)
    local.add_argument("--state-dir", default=".local")
    local.set_defaults(run=cmd_local)
    sim = sub.add_parser("simulator", help="run the Open Dental simulator alone")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8001)
    sim.add_argument(
        "--throttle", type=float, default=1.0, help="seconds between calls per customer key"
    )
    sim.set_defaults(run=cmd_simulator)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs full URLs, which carry patient numbers; alembic's plugin chatter is noise.
    for noisy in ("httpx", "httpcore", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args.run(Settings(), args)


if __name__ == "__main__":
    main()
