"""The composition root: builds every client once from settings.

The API lifespan, the worker's startup and the tests all call `bootstrap`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from arq.connections import ArqRedis, RedisSettings, create_pool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.adapters.connection_gate import RedisConnectionGate
from app.adapters.events import RedisEventBus
from app.adapters.job_queue import ArqJobQueue
from app.adapters.rate_limiter import RedisRateLimiter
from app.adapters.secret_box import FernetSecretBox
from app.adapters.short_cache import RedisShortCache
from app.adapters.sync_schedule import RedisSyncSchedule
from app.adapters.webhook_sender import HttpxWebhookSender
from app.config import Settings
from app.database import create_engine
from connectors.registry import ConnectorRegistry
from domain.persistence.uow import UnitOfWork
from domain.retry_policy import RetryPolicy
from domain.services.notifications import NoticePolicy
from domain.services.posting import PostingDeps
from domain.services.sync import SyncDeps
from domain.services.webhooks import WebhookDeps


def job_serializer(data: dict[str, Any]) -> bytes:
    # JSON instead of arq's default pickle: a job read from Redis must not run code.
    return json.dumps(data).encode()


def job_deserializer(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)  # type: ignore[no-any-return]


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


@dataclass
class Container:
    settings: Settings
    redis_url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    arq: ArqRedis
    http: httpx.AsyncClient
    secret_box: FernetSecretBox
    registry: ConnectorRegistry
    jobs: ArqJobQueue
    events: RedisEventBus
    cache: RedisShortCache
    posting: PostingDeps
    webhooks: WebhookDeps
    sync_schedule: RedisSyncSchedule
    sync: SyncDeps
    extras: dict[str, Any] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.jobs, self.events)

    async def close(self) -> None:
        await self.events.close()
        await self.http.aclose()
        await self.arq.aclose()
        await self.engine.dispose()


async def bootstrap(settings: Settings, redis_url: str | None = None) -> Container:
    url = redis_url or settings.redis_url
    if url is None:
        raise ValueError("a Redis URL is required; the local stack starts an embedded one")
    if settings.database_url.startswith("sqlite"):
        db_path = settings.database_url.split("///", 1)[-1]
        if db_path and not db_path.startswith(":"):
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    arq = await create_pool(
        redis_settings(url), job_serializer=job_serializer, job_deserializer=job_deserializer
    )
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    secret_box = FernetSecretBox(settings.secret_key)
    registry = ConnectorRegistry(
        http,
        RedisRateLimiter(arq),
        timeout_seconds=settings.pms_timeout_seconds,
        max_throttle_wait_seconds=settings.max_throttle_wait_seconds,
    )
    sync_schedule = RedisSyncSchedule(arq)
    cache = RedisShortCache(arq)
    return Container(
        settings=settings,
        redis_url=url,
        engine=engine,
        sessions=sessions,
        arq=arq,
        http=http,
        secret_box=secret_box,
        registry=registry,
        jobs=ArqJobQueue(arq),
        events=RedisEventBus(arq),
        cache=cache,
        posting=PostingDeps(
            secret_box=secret_box,
            registry=registry,
            gate=RedisConnectionGate(
                arq,
                limit=settings.max_postings_in_flight_per_connection,
                lease_seconds=settings.posting_claim_seconds,
            ),
            retry_policy=RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                base_seconds=settings.retry_base_seconds,
                cap_seconds=settings.retry_cap_seconds,
            ),
            cache=cache,
            claim_seconds=settings.posting_claim_seconds,
            unknown_settle_seconds=settings.unknown_settle_seconds,
            notices=NoticePolicy(resend_seconds=settings.notice_resend_seconds),
        ),
        webhooks=WebhookDeps(
            secret_box=secret_box,
            sender=HttpxWebhookSender(http),
            retry_policy=RetryPolicy(
                max_attempts=settings.webhook_max_attempts,
                base_seconds=settings.webhook_retry_base_seconds,
                cap_seconds=settings.webhook_retry_cap_seconds,
            ),
            # A POST must end well within its job's own timeout.
            timeout_seconds=min(settings.webhook_timeout_seconds, settings.job_timeout_seconds / 2),
        ),
        sync_schedule=sync_schedule,
        sync=SyncDeps(
            secret_box=secret_box,
            registry=registry,
            schedule=sync_schedule,
            overlap_seconds=settings.sync_overlap_seconds,
            photos_per_poll=settings.sync_photos_per_poll,
        ),
    )
