"""One unit of work per request, websocket message or job.

Services flush but never commit. Jobs and events are buffered and only leave after the
commit succeeded, so a rolled-back change never reaches Redis.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.job_names import POST_WRITEBACK, posting_job_id
from domain.persistence.repositories import (
    ApiKeyRepository,
    AttemptRepository,
    ConnectionRepository,
    DailyRunRepository,
    DocumentRepository,
    IntentRepository,
    LocationRepository,
    NotificationRepository,
    OrganizationRepository,
    SettingsRepository,
    WebhookDeliveryRepository,
    WebhookEndpointRepository,
)
from domain.persistence.sync_repositories import SyncRepositories
from domain.ports import EventPublisher, JobQueue

log = logging.getLogger(__name__)


class UnitOfWork:
    session: AsyncSession

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], jobs: JobQueue, events: EventPublisher
    ) -> None:
        self._sessions = sessions
        self._jobs = jobs
        self._events = events
        self._pending_jobs: list[tuple[str, tuple[str, ...], str, float]] = []
        self._pending_events: list[tuple[str, dict[str, Any]]] = []

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        s = self.session
        self.organizations = OrganizationRepository(s)
        self.locations = LocationRepository(s)
        self.api_keys = ApiKeyRepository(s)
        self.connections = ConnectionRepository(s)
        self.settings = SettingsRepository(s)
        self.intents = IntentRepository(s)
        self.attempts = AttemptRepository(s)
        self.documents = DocumentRepository(s)
        self.notifications = NotificationRepository(s)
        self.daily_runs = DailyRunRepository(s)
        self.webhooks = WebhookEndpointRepository(s)
        self.deliveries = WebhookDeliveryRepository(s)
        self.sync = SyncRepositories(s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects with the
        # state they had; rollback() would expire them and break reads after the unit.
        await self.session.close()
        self._pending_jobs.clear()
        self._pending_events.clear()

    def enqueue_after_commit(
        self, function: str, *args: str, job_id: str, defer_seconds: float = 0.0
    ) -> None:
        self._pending_jobs.append((function, args, job_id, defer_seconds))

    def enqueue_posting_after_commit(
        self, kind: str, intent_id: str, defer_seconds: float = 0.0
    ) -> None:
        self.enqueue_after_commit(
            POST_WRITEBACK,
            kind,
            intent_id,
            job_id=posting_job_id(kind, intent_id),
            defer_seconds=defer_seconds,
        )

    def publish_after_commit(self, channel: str, payload: dict[str, Any]) -> None:
        self._pending_events.append((channel, payload))

    async def flush(self) -> None:
        await self.session.flush()

    async def commit(self) -> None:
        await self.session.commit()
        jobs, self._pending_jobs = self._pending_jobs, []
        events, self._pending_events = self._pending_events, []
        # The commit is what counts. A lost enqueue is recovered by the sweeper and a lost
        # event by the client re-reading history, so failures here are logged, not raised.
        for function, args, job_id, defer in jobs:
            try:
                await self._jobs.enqueue(function, *args, job_id=job_id, defer_seconds=defer)
            except Exception:
                log.warning(
                    "enqueue failed after commit; the sweeper will pick it up", exc_info=True
                )
        for channel, payload in events:
            try:
                await self._events.publish(channel, payload)
            except Exception:
                log.warning("event publish failed after commit", exc_info=True)
