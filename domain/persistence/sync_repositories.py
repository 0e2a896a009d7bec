"""SQL of the PMS sync: mirror tables and per-resource state. Scoped by location, whose
organization the callers have checked (or, in the worker, own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.persistence.base import utcnow
from domain.persistence.sync_models import (
    SyncedAppointment,
    SyncedPatient,
    SyncedPatientPhoto,
    SyncState,
)


def _dialect_insert(session: AsyncSession) -> Any:
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SyncStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, organization_id: str, location_id: str, resource: str) -> SyncState:
        """The state row, locked for this unit of work; created if missing.

        The insert comes first so that SQLite takes its write lock before anything is
        read: two polls writing the same mirror table then run one after the other.
        """
        insert = _dialect_insert(self._session)
        await self._session.execute(
            insert(SyncState)
            .values(
                location_id=location_id,
                resource=resource,
                organization_id=organization_id,
                online=True,
                consecutive_failures=0,
                last_changed_count=0,
                polls=0,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        row = await self._session.scalar(
            select(SyncState)
            .where(SyncState.location_id == location_id, SyncState.resource == resource)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        return row

    async def get(self, location_id: str, resource: str) -> SyncState | None:
        return await self._session.get(SyncState, (location_id, resource))

    async def for_location(self, location_id: str) -> Sequence[SyncState]:
        return (
            await self._session.scalars(
                select(SyncState).where(SyncState.location_id == location_id)
            )
        ).all()


class SyncedPatientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, patient: SyncedPatient) -> None:
        self._session.add(patient)

    async def by_pms_ids(
        self, location_id: str, pms_ids: Sequence[str]
    ) -> dict[str, SyncedPatient]:
        if not pms_ids:
            return {}
        rows = await self._session.scalars(
            select(SyncedPatient).where(
                SyncedPatient.location_id == location_id, SyncedPatient.pms_id.in_(pms_ids)
            )
        )
        return {row.pms_id: row for row in rows}

    async def get(self, location_id: str, patient_id: str) -> SyncedPatient | None:
        row = await self._session.get(SyncedPatient, patient_id)
        return row if row is not None and row.location_id == location_id else None

    async def page(
        self,
        location_id: str,
        search: str | None,
        after: tuple[str, str] | None,
        limit: int,
    ) -> Sequence[SyncedPatient]:
        """Ordered by (last, first name, id); `after` is the (sort_key, id) of the last row seen."""
        query = select(SyncedPatient).where(SyncedPatient.location_id == location_id)
        if search:
            for word in search.lower().split():
                query = query.where(
                    SyncedPatient.search_text.like(f"%{_like_escape(word)}%", escape="\\")
                )
        if after is not None:
            sort_key, row_id = after
            query = query.where(
                (SyncedPatient.sort_key > sort_key)
                | ((SyncedPatient.sort_key == sort_key) & (SyncedPatient.id > row_id))
            )
        query = query.order_by(SyncedPatient.sort_key, SyncedPatient.id).limit(limit)
        return (await self._session.scalars(query)).all()

    async def count(self, location_id: str) -> int:
        return int(
            await self._session.scalar(
                select(func.count())
                .select_from(SyncedPatient)
                .where(SyncedPatient.location_id == location_id)
            )
            or 0
        )

    async def needing_photo(
        self, location_id: str, checked_before: datetime, limit: int
    ) -> Sequence[SyncedPatient]:
        """Never checked first, then those checked longest ago (before `checked_before`)."""
        return (
            await self._session.scalars(
                select(SyncedPatient)
                .where(
                    SyncedPatient.location_id == location_id,
                    or_(
                        SyncedPatient.photo_checked_at.is_(None),
                        SyncedPatient.photo_checked_at < checked_before,
                    ),
                )
                .order_by(SyncedPatient.photo_checked_at.nulls_first(), SyncedPatient.id)
                .limit(limit)
            )
        ).all()

    async def mark_photo_checked(self, location_id: str, pms_ids: Sequence[str]) -> None:
        if pms_ids:
            await self._session.execute(
                update(SyncedPatient)
                .where(SyncedPatient.location_id == location_id, SyncedPatient.pms_id.in_(pms_ids))
                .values(photo_checked_at=utcnow())
            )

    async def forget_photos(self, location_id: str) -> int:
        """Photos switched off: drop the stored pictures, so none is kept or served."""
        await self._session.execute(
            update(SyncedPatient)
            .where(
                SyncedPatient.location_id == location_id,
                SyncedPatient.photo_checked_at.is_not(None),
            )
            .values(photo_checked_at=None)
        )
        result = await self._session.execute(
            delete(SyncedPatientPhoto).where(SyncedPatientPhoto.location_id == location_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def photo(self, location_id: str, pms_patient_id: str) -> SyncedPatientPhoto | None:
        return await self._session.get(SyncedPatientPhoto, (location_id, pms_patient_id))

    async def photo_ids(self, location_id: str, pms_patient_ids: Sequence[str]) -> set[str]:
        if not pms_patient_ids:
            return set()
        rows = await self._session.scalars(
            select(SyncedPatientPhoto.pms_patient_id).where(
                SyncedPatientPhoto.location_id == location_id,
                SyncedPatientPhoto.pms_patient_id.in_(pms_patient_ids),
            )
        )
        return set(rows)

    def add_photo(self, photo: SyncedPatientPhoto) -> None:
        self._session.add(photo)

    async def delete_photo(self, location_id: str, pms_patient_id: str) -> None:
        await self._session.execute(
            delete(SyncedPatientPhoto).where(
                SyncedPatientPhoto.location_id == location_id,
                SyncedPatientPhoto.pms_patient_id == pms_patient_id,
            )
        )


class SyncedAppointmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, appointment: SyncedAppointment) -> None:
        self._session.add(appointment)

    async def delete(self, appointment: SyncedAppointment) -> None:
        await self._session.delete(appointment)

    async def by_pms_ids(
        self, location_id: str, pms_ids: Sequence[str]
    ) -> dict[str, SyncedAppointment]:
        if not pms_ids:
            return {}
        rows = await self._session.scalars(
            select(SyncedAppointment).where(
                SyncedAppointment.location_id == location_id,
                SyncedAppointment.pms_id.in_(pms_ids),
            )
        )
        return {row.pms_id: row for row in rows}

    async def between(
        self, location_id: str, first_day: date, last_day: date, limit: int
    ) -> Sequence[SyncedAppointment]:
        return (
            await self._session.scalars(
                select(SyncedAppointment)
                .where(
                    SyncedAppointment.location_id == location_id,
                    SyncedAppointment.local_date >= first_day,
                    SyncedAppointment.local_date <= last_day,
                )
                .order_by(SyncedAppointment.starts_at, SyncedAppointment.pms_id)
                .limit(limit)
            )
        ).all()

    async def latest_change(self, location_id: str) -> datetime | None:
        value: datetime | None = await self._session.scalar(
            select(func.max(SyncedAppointment.updated_at)).where(
                SyncedAppointment.location_id == location_id
            )
        )
        return value


class SyncRepositories:
    """The sync's repositories, one attribute of the unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.states = SyncStateRepository(session)
        self.patients = SyncedPatientRepository(session)
        self.appointments = SyncedAppointmentRepository(session)
