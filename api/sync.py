"""GraphQL of the PMS sync: settings (admin), status, patients, appointments, live events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import date
from typing import Annotated

import strawberry

from api.context import Info
from api.errors import AnyUserError
from api.mutations import _in_unit_of_work
from api.subscriptions import location_events
from api.types.payment_settings import SettingsChange
from api.types.sync import (
    Appointment,
    AppointmentEvent,
    Patient,
    PatientConnection,
    PatientEdge,
    SyncResourceStatus,
    SyncSettings,
    SyncStatusEvent,
    TodaySchedule,
    UpdateSyncSettingsInput,
    decode_patient_cursor,
    encode_patient_cursor,
)
from api.types.writeback import PageInfo
from domain.errors import FieldError, ValidationFailed
from domain.events import appointment_channel, sync_status_channel
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services import sync_queries, sync_settings


@strawberry.type
class UpdateSyncSettingsSuccess:
    settings: SyncSettings


UpdateSyncSettingsResult = Annotated[
    UpdateSyncSettingsSuccess | AnyUserError, strawberry.union("UpdateSyncSettingsResult")
]


def _schedule(schedule: sync_queries.Schedule) -> list[Appointment]:
    return [
        Appointment.from_model(a, schedule.patients.get(a.pms_patient_id))
        for a in schedule.appointments
    ]


@strawberry.type
class SyncQuery:
    @strawberry.field(description="What the location polls from its PMS, and how often")
    async def sync_settings(self, info: Info, location_id: strawberry.ID) -> SyncSettings:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            versioned = await sync_settings.get_settings(uow, p, location_id)
        return SyncSettings.from_model(location_id, versioned)

    @strawberry.field(description="Audit of the location's sync settings, newest first")
    async def sync_settings_changes(
        self, info: Info, location_id: strawberry.ID
    ) -> list[SettingsChange]:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            rows = await sync_settings.list_changes(uow, p, location_id)
        return [SettingsChange.from_model(r) for r in rows]

    @strawberry.field(description="Per resource: on/off, interval, last success and error, lag")
    async def sync_status(self, info: Info, location_id: strawberry.ID) -> list[SyncResourceStatus]:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            statuses = await sync_queries.status(uow, p, location_id)
        return [SyncResourceStatus.from_model(s) for s in statuses]

    @strawberry.field(description="The location's synced patients by name, in cursor pages")
    async def patients(
        self,
        info: Info,
        location_id: strawberry.ID,
        search: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> PatientConnection:
        p = info.context.require_principal()
        try:
            position = decode_patient_cursor(after) if after else None
        except ValueError:
            raise ValidationFailed([FieldError("after", "is not a cursor of this list")]) from None
        async with info.context.container.uow() as uow:
            page = await sync_queries.patients(uow, p, location_id, search, first, position)
        edges = [
            PatientEdge(
                cursor=encode_patient_cursor(m),
                node=Patient.from_model(m, has_photo=m.pms_id in page.with_photo),
            )
            for m in page.patients
        ]
        return PatientConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(description="Synced appointments from one local date to another (inclusive)")
    async def appointments(
        self,
        info: Info,
        location_id: strawberry.ID,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> list[Appointment]:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            schedule = await sync_queries.appointments(uow, p, location_id, from_, to)
        return _schedule(schedule)

    @strawberry.field(description="Today's appointments of the location with their flow status")
    async def today_schedule(self, info: Info, location_id: strawberry.ID) -> TodaySchedule:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            schedule = await sync_queries.today(uow, p, location_id)
        assert schedule.local_date is not None
        return TodaySchedule(
            location_id=location_id, date=schedule.local_date, appointments=_schedule(schedule)
        )


@strawberry.type
class SyncMutation:
    @strawberry.mutation(
        description="Switches, intervals and the photo option; checked against the connection's "
        "throttle, audited, and in effect from the next tick"
    )
    async def update_sync_settings(
        self, info: Info, input: UpdateSyncSettingsInput
    ) -> UpdateSyncSettingsResult:
        async def work(uow: UnitOfWork, p: Principal) -> UpdateSyncSettingsSuccess:
            versioned = await sync_settings.update_settings(
                uow, p, input.location_id, input.changes(), input.patient_photos
            )
            return UpdateSyncSettingsSuccess(
                settings=SyncSettings.from_model(input.location_id, versioned)
            )

        return await _in_unit_of_work(info, work)


@strawberry.type
class SyncSubscription:
    @strawberry.subscription(
        description="The location's appointments as they change in the PMS (patient-flow board)"
    )
    async def appointment_events(
        self, info: Info, location_id: strawberry.ID
    ) -> AsyncGenerator[AppointmentEvent, None]:
        async with aclosing(
            location_events(info, location_id, appointment_channel(location_id))
        ) as events:
            async for event in events:
                yield AppointmentEvent.from_payload(event)

    @strawberry.subscription(description="Sync status changes of the location's resources")
    async def sync_status_events(
        self, info: Info, location_id: strawberry.ID
    ) -> AsyncGenerator[SyncStatusEvent, None]:
        async with aclosing(
            location_events(info, location_id, sync_status_channel(location_id))
        ) as events:
            async for event in events:
                yield SyncStatusEvent.from_payload(event)
