"""All SQL lives here. Every lookup of practice data is scoped by organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import WritebackStatus
from domain.persistence.base import utcnow
from domain.persistence.models import (
    ApiKey,
    DailyRun,
    Location,
    LocationSettings,
    Notification,
    NotificationWriteback,
    Organization,
    PmsConnection,
    SettingsChange,
    WebhookDelivery,
    WebhookEndpoint,
    WritebackAttempt,
    WritebackDocument,
    WritebackIntent,
)

_Owned = TypeVar("_Owned", Location, ApiKey, WritebackIntent, Notification, DailyRun)


async def _get_owned(
    session: AsyncSession, model: type[_Owned], organization_id: str, row_id: str
) -> _Owned | None:
    """A row by id, or None when it belongs to another organization (never revealed)."""
    row = await session.get(model, row_id)
    if row is None or row.organization_id != organization_id:
        return None
    return row


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, organization: Organization) -> None:
        self._session.add(organization)

    async def get(self, organization_id: str) -> Organization | None:
        return await self._session.get(Organization, organization_id)


class LocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, location: Location) -> None:
        self._session.add(location)

    async def get(self, organization_id: str, location_id: str) -> Location | None:
        return await _get_owned(self._session, Location, organization_id, location_id)

    async def list(self, organization_id: str) -> Sequence[Location]:
        rows = await self._session.scalars(
            select(Location)
            .where(Location.organization_id == organization_id)
            .order_by(Location.created_at, Location.id)
        )
        return rows.all()

    async def many_unscoped(self, location_ids: Sequence[str]) -> Sequence[Location]:
        """For the scheduler, which serves every organization."""
        if not location_ids:
            return []
        return (
            await self._session.scalars(select(Location).where(Location.id.in_(location_ids)))
        ).all()

    async def get_unscoped(self, location_id: str) -> Location | None:
        """For the worker, which acts on behalf of whichever organization owns the intent."""
        return await self._session.get(Location, location_id)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, key: ApiKey) -> None:
        self._session.add(key)

    async def by_prefix(self, prefix: str) -> ApiKey | None:
        return await self._session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))

    async def get(self, organization_id: str, key_id: str) -> ApiKey | None:
        return await _get_owned(self._session, ApiKey, organization_id, key_id)

    async def list(self, organization_id: str) -> Sequence[ApiKey]:
        rows = await self._session.scalars(
            select(ApiKey)
            .where(ApiKey.organization_id == organization_id)
            .order_by(ApiKey.created_at, ApiKey.id)
        )
        return rows.all()


class ConnectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, location_id: str) -> PmsConnection | None:
        return await self._session.get(PmsConnection, location_id)

    async def connected(self, location_ids: Sequence[str]) -> set[str]:
        """Which of the locations have a PMS connection."""
        if not location_ids:
            return set()
        rows = await self._session.scalars(
            select(PmsConnection.location_id).where(PmsConnection.location_id.in_(location_ids))
        )
        return set(rows.all())

    def add(self, connection: PmsConnection) -> None:
        self._session.add(connection)


def _dialect_insert(session: AsyncSession) -> Any:
    """INSERT with ON CONFLICT support for the session's backend."""
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, location_id: str, kind: str) -> LocationSettings | None:
        return await self._session.scalar(
            select(LocationSettings).where(
                LocationSettings.location_id == location_id, LocationSettings.kind == kind
            )
        )

    async def lock(self, location_id: str, kind: str) -> LocationSettings:
        """The settings row, locked for this unit of work; created at version 0 if missing.

        Must come before any other write of the unit: the insert is what takes SQLite's
        write lock (which has no row locks), and FOR UPDATE the row lock on PostgreSQL.
        """
        insert = _dialect_insert(self._session)
        await self._session.execute(
            insert(LocationSettings)
            .values(location_id=location_id, kind=kind, version=0, data={}, updated_at=utcnow())
            .on_conflict_do_nothing()
        )
        row = await self._session.scalar(
            select(LocationSettings)
            .where(LocationSettings.location_id == location_id, LocationSettings.kind == kind)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        return row

    def add(self, settings: LocationSettings) -> None:
        self._session.add(settings)

    async def all_of_kind(self, kind: str) -> Sequence[LocationSettings]:
        return (
            await self._session.scalars(
                select(LocationSettings).where(LocationSettings.kind == kind)
            )
        ).all()

    def add_change(self, change: SettingsChange) -> None:
        self._session.add(change)

    async def list_changes(self, location_id: str, kind: str) -> Sequence[SettingsChange]:
        rows = await self._session.scalars(
            select(SettingsChange)
            .where(SettingsChange.location_id == location_id, SettingsChange.kind == kind)
            .order_by(SettingsChange.version.desc())
        )
        return rows.all()


@dataclass(frozen=True)
class HistoryFilter:
    organization_id: str
    location_ids: Sequence[str] | None = None
    kind: str | None = None
    statuses: Sequence[str] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None
    patient_ref: str | None = None
    source_id: str | None = None


class IntentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, intent: WritebackIntent) -> None:
        self._session.add(intent)

    async def get(self, intent_id: str, for_update: bool = False) -> WritebackIntent | None:
        stmt = select(WritebackIntent).where(WritebackIntent.id == intent_id)
        if for_update:
            # Refresh what this session may already hold: the locked row is the truth.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self._session.scalar(stmt)

    async def get_scoped(self, organization_id: str, intent_id: str) -> WritebackIntent | None:
        return await _get_owned(self._session, WritebackIntent, organization_id, intent_id)

    async def by_source_id(
        self, location_id: str, kind: str, source_id: str
    ) -> WritebackIntent | None:
        return await self._session.scalar(
            select(WritebackIntent).where(
                WritebackIntent.location_id == location_id,
                WritebackIntent.kind == kind,
                WritebackIntent.source_id == source_id,
            )
        )

    async def history(
        self, f: HistoryFilter, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[WritebackIntent]:
        """Newest first, keyset-paginated on (created_at, id)."""
        stmt: Select[WritebackIntent] = select(WritebackIntent).where(
            WritebackIntent.organization_id == f.organization_id
        )
        if f.location_ids is not None:
            stmt = stmt.where(WritebackIntent.location_id.in_(f.location_ids))
        if f.kind:
            stmt = stmt.where(WritebackIntent.kind == f.kind)
        if f.statuses:
            stmt = stmt.where(WritebackIntent.status.in_(f.statuses))
        if f.created_from:
            stmt = stmt.where(WritebackIntent.created_at >= f.created_from)
        if f.created_to:
            stmt = stmt.where(WritebackIntent.created_at < f.created_to)
        if f.occurred_from:
            stmt = stmt.where(WritebackIntent.occurred_on >= f.occurred_from)
        if f.occurred_to:
            stmt = stmt.where(WritebackIntent.occurred_on <= f.occurred_to)
        if f.patient_ref:
            stmt = stmt.where(WritebackIntent.patient_ref == f.patient_ref)
        if f.source_id:
            stmt = stmt.where(WritebackIntent.source_id == f.source_id)
        if after is not None:
            created_at, intent_id = after
            stmt = stmt.where(
                or_(
                    WritebackIntent.created_at < created_at,
                    and_(WritebackIntent.created_at == created_at, WritebackIntent.id < intent_id),
                )
            )
        stmt = stmt.order_by(WritebackIntent.created_at.desc(), WritebackIntent.id.desc()).limit(
            limit
        )
        return (await self._session.scalars(stmt)).all()

    async def by_fingerprint(
        self, location_id: str, kind: str, fingerprint: str
    ) -> WritebackIntent | None:
        return await self._session.scalar(
            select(WritebackIntent)
            .where(
                WritebackIntent.location_id == location_id,
                WritebackIntent.kind == kind,
                WritebackIntent.fingerprint == fingerprint,
            )
            .limit(1)
        )

    async def scheduled_up_to(
        self, location_id: str, cutoff: datetime
    ) -> Sequence[WritebackIntent]:
        """The location's items waiting for a daily run, oldest first."""
        return (
            await self._session.scalars(
                select(WritebackIntent)
                .where(
                    WritebackIntent.location_id == location_id,
                    WritebackIntent.status == WritebackStatus.SCHEDULED.value,
                    WritebackIntent.created_at <= cutoff,
                )
                .order_by(WritebackIntent.created_at, WritebackIntent.id)
            )
        ).all()

    async def try_claim(
        self, intent_id: str, now: datetime, claim_until: datetime, due_statuses: Sequence[str]
    ) -> bool:
        """Moves a due intent to posting under a claim; False when it is not due or held."""
        result = await self._session.execute(
            update(WritebackIntent)
            .where(
                WritebackIntent.id == intent_id,
                WritebackIntent.status.in_(due_statuses),
                or_(
                    WritebackIntent.next_attempt_at.is_(None),
                    WritebackIntent.next_attempt_at <= now,
                ),
                or_(
                    WritebackIntent.claim_expires_at.is_(None),
                    WritebackIntent.claim_expires_at <= now,
                ),
            )
            .values(
                status=WritebackStatus.POSTING.value, claim_expires_at=claim_until, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(
        self, now: datetime, statuses: Sequence[str], limit: int
    ) -> Sequence[WritebackIntent]:
        """Intents the worker owes an attempt: due retries, and claims that expired."""
        stmt = (
            select(WritebackIntent)
            .where(
                WritebackIntent.status.in_(statuses),
                or_(
                    WritebackIntent.next_attempt_at.is_(None),
                    WritebackIntent.next_attempt_at <= now,
                ),
                or_(
                    WritebackIntent.claim_expires_at.is_(None),
                    WritebackIntent.claim_expires_at <= now,
                ),
            )
            .order_by(WritebackIntent.next_attempt_at)
            .limit(limit)
        )
        return (await self._session.scalars(stmt)).all()


class DailyRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create_missing(self, runs: Sequence[dict[str, Any]]) -> None:
        """Inserts the runs not there yet; concurrent schedulers cannot create one twice."""
        if runs:
            insert = _dialect_insert(self._session)
            await self._session.execute(
                insert(DailyRun).values(list(runs)).on_conflict_do_nothing()
            )

    def add(self, run: DailyRun) -> None:
        self._session.add(run)

    async def get(self, run_id: str) -> DailyRun | None:
        return await self._session.get(DailyRun, run_id)

    async def get_scoped(self, organization_id: str, run_id: str) -> DailyRun | None:
        return await _get_owned(self._session, DailyRun, organization_id, run_id)

    async def pending(self, limit: int) -> Sequence[DailyRun]:
        return (
            await self._session.scalars(
                select(DailyRun)
                .where(DailyRun.status == "pending")
                .order_by(DailyRun.cutoff_at)
                .limit(limit)
            )
        ).all()

    async def for_location(self, location_id: str, limit: int) -> Sequence[DailyRun]:
        return (
            await self._session.scalars(
                select(DailyRun)
                .where(DailyRun.location_id == location_id)
                .order_by(DailyRun.cutoff_at.desc(), DailyRun.id.desc())
                .limit(limit)
            )
        ).all()


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, document: WritebackDocument) -> None:
        self._session.add(document)

    async def content_of(self, intent_id: str) -> bytes | None:
        return await self._session.scalar(
            select(WritebackDocument.content).where(WritebackDocument.intent_id == intent_id)
        )


class AttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, attempt: WritebackAttempt) -> None:
        self._session.add(attempt)

    async def for_intents(self, intent_ids: Sequence[str]) -> Sequence[WritebackAttempt]:
        if not intent_ids:
            return []
        rows = await self._session.scalars(
            select(WritebackAttempt)
            .where(WritebackAttempt.intent_id.in_(intent_ids))
            .order_by(WritebackAttempt.intent_id, WritebackAttempt.number)
        )
        return rows.all()

    async def latest(self, intent_id: str) -> WritebackAttempt | None:
        return await self._session.scalar(
            select(WritebackAttempt)
            .where(WritebackAttempt.intent_id == intent_id)
            .order_by(WritebackAttempt.number.desc())
            .limit(1)
        )

    async def first(self, intent_id: str) -> WritebackAttempt | None:
        return await self._session.scalar(
            select(WritebackAttempt)
            .where(WritebackAttempt.intent_id == intent_id)
            .order_by(WritebackAttempt.number)
            .limit(1)
        )


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, notification: Notification) -> None:
        self._session.add(notification)

    async def get(self, organization_id: str, notification_id: str) -> Notification | None:
        return await _get_owned(self._session, Notification, organization_id, notification_id)

    async def list(
        self,
        organization_id: str,
        location_ids: Sequence[str] | None,
        unacknowledged_only: bool,
        limit: int,
    ) -> Sequence[Notification]:
        stmt = select(Notification).where(Notification.organization_id == organization_id)
        if location_ids is not None:
            stmt = stmt.where(Notification.location_id.in_(location_ids))
        if unacknowledged_only:
            stmt = stmt.where(Notification.acknowledged_at.is_(None))
        stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
        return (await self._session.scalars(stmt)).all()

    async def open_for_group(self, values: dict[str, Any]) -> Notification:
        """The location's open notice for values["open_group_key"], locked; inserted first
        with occurrences 0 when there is none. Insert-or-nothing then lock, so concurrent
        failures of one cause can never open two notices, on either backend."""
        insert = _dialect_insert(self._session)
        for _ in range(3):
            await self._session.execute(
                insert(Notification).values(**values).on_conflict_do_nothing()
            )
            notice = await self._session.scalar(
                select(Notification)
                .where(
                    Notification.location_id == values["location_id"],
                    Notification.open_group_key == values["open_group_key"],
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if notice is not None:
                return notice
            # Resolved between our insert attempt and the lock: open a new one.
        raise RuntimeError("could not open a notice for the group")

    async def lock(self, notification_id: str) -> Notification | None:
        return await self._session.scalar(
            select(Notification)
            .where(Notification.id == notification_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def link(self, notification_id: str, intent_id: str) -> NotificationWriteback | None:
        return await self._session.get(NotificationWriteback, (notification_id, intent_id))

    def add_link(self, link: NotificationWriteback) -> None:
        self._session.add(link)

    async def open_links_of_intent(self, intent_id: str) -> Sequence[NotificationWriteback]:
        """The intent's memberships in open notices it has not recovered from yet."""
        stmt = (
            select(NotificationWriteback)
            .join(Notification, Notification.id == NotificationWriteback.notification_id)
            .where(
                NotificationWriteback.intent_id == intent_id,
                NotificationWriteback.recovered_at.is_(None),
                Notification.resolved_at.is_(None),
            )
            .order_by(NotificationWriteback.notification_id)
        )
        return (await self._session.scalars(stmt)).all()

    async def unrecovered_count(self, notification_id: str) -> int:
        """Writebacks of the notice neither recovered nor succeeded since."""
        count = await self._session.scalar(
            select(func.count())
            .select_from(NotificationWriteback)
            .join(WritebackIntent, WritebackIntent.id == NotificationWriteback.intent_id)
            .where(
                NotificationWriteback.notification_id == notification_id,
                NotificationWriteback.recovered_at.is_(None),
                WritebackIntent.status != WritebackStatus.SUCCEEDED.value,
            )
        )
        return int(count or 0)

    async def writeback_ids(
        self, notification_ids: Sequence[str], limit_each: int
    ) -> dict[str, Sequence[str]]:
        """The first `limit_each` writebacks of each notice, in the order they joined it."""
        position = (
            func.row_number()
            .over(
                partition_by=NotificationWriteback.notification_id,
                order_by=(NotificationWriteback.added_at, NotificationWriteback.intent_id),
            )
            .label("position")
        )
        ranked = (
            select(
                NotificationWriteback.notification_id,
                NotificationWriteback.intent_id,
                NotificationWriteback.added_at,
                position,
            )
            .where(NotificationWriteback.notification_id.in_(notification_ids))
            .subquery()
        )
        rows = await self._session.execute(
            select(ranked.c.notification_id, ranked.c.intent_id)
            .where(ranked.c.position <= limit_each)
            .order_by(ranked.c.notification_id, ranked.c.position)
        )
        found: dict[str, Sequence[str]] = {i: () for i in notification_ids}
        for notification_id, group in groupby(rows, key=lambda row: str(row[0])):
            found[notification_id] = [str(row[1]) for row in group]
        return found


class WebhookEndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, location_id: str) -> WebhookEndpoint | None:
        return await self._session.get(WebhookEndpoint, location_id)

    def add(self, endpoint: WebhookEndpoint) -> None:
        self._session.add(endpoint)

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        await self._session.delete(endpoint)


class WebhookDeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, delivery: WebhookDelivery) -> None:
        self._session.add(delivery)

    async def get(self, delivery_id: str, for_update: bool = False) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self._session.scalar(stmt)

    async def try_claim(
        self, delivery_id: str, pending: str, now: datetime, lease_until: datetime
    ) -> bool:
        """Counts an attempt and leases it until `lease_until`; False when not due or held."""
        result = await self._session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == pending,
                or_(
                    WebhookDelivery.next_attempt_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now,
                ),
            )
            .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, pending: str, now: datetime, limit: int) -> Sequence[str]:
        """Ids of pending deliveries whose next attempt (or expired lease) is due."""
        stmt = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == pending,
                or_(
                    WebhookDelivery.next_attempt_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now,
                ),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
        return (await self._session.scalars(stmt)).all()

    async def with_status(self, location_id: str, status: str) -> Sequence[WebhookDelivery]:
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.location_id == location_id, WebhookDelivery.status == status
        )
        return (await self._session.scalars(stmt)).all()

    async def for_location(self, location_id: str, limit: int) -> Sequence[WebhookDelivery]:
        stmt = (
            select(WebhookDelivery)
            .where(WebhookDelivery.location_id == location_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
        return (await self._session.scalars(stmt)).all()
