from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from api.context import Info
from api.types.payment_settings import PaymentWritebackSettings, SettingsChange
from api.types.tenancy import ApiKey, Location, Me, PmsConnection, PmsOption
from api.types.writeback import (
    DailyRun,
    Notification,
    PageInfo,
    Writeback,
    WritebackConnection,
    WritebackEdge,
    WritebackFilter,
    decode_cursor,
    encode_cursor,
)
from domain.errors import FieldError, PmsUnavailable, ValidationFailed
from domain.persistence.repositories import HistoryFilter
from domain.ports import ConnectorError, PmsConnector
from domain.ports import PmsOption as PmsOptionModel
from domain.services import (
    daily,
    notifications,
    payment_settings,
    pms_options,
    tenancy,
    writebacks,
)
from domain.services.connections import connector_for_location

MAX_PAGE = 100
CHECK_CONNECTION_HINT = "Run checkConnection to see which part of the connection fails"


async def _connector(info: Info, location_id: str) -> PmsConnector:
    p = info.context.require_principal()
    p.require_staff()
    c = info.context.container
    async with c.uow() as uow:
        await tenancy.require_location(uow, p, location_id)
        return await connector_for_location(uow, c.secret_box, c.registry, location_id)


async def _from_pms(call: Awaitable[list[PmsOptionModel]]) -> list[PmsOptionModel]:
    """Outside any unit of work: the PMS may be slow."""
    try:
        return await call
    except ConnectorError as exc:
        raise PmsUnavailable(exc.message, getattr(exc, "hint", CHECK_CONNECTION_HINT)) from exc


@strawberry.type
class PmsAdjustmentType:
    id: str
    name: str
    sign: str = strawberry.field(description='"+" adds to the balance, "-" takes from it')


@strawberry.type
class PmsListEntry:
    id: str
    name: str
    hidden: bool
    usage: str | None = strawberry.field(
        description="The PMS's usage code or flags for the entry, where it has them"
    )
    sign: str | None = strawberry.field(description='Adjustment types: "+" or "-"')

    @classmethod
    def from_model(cls, o: PmsOptionModel) -> PmsListEntry:
        usage = o.extra.get("usage")
        sign = o.extra.get("sign")
        return cls(
            id=o.id,
            name=o.name,
            hidden=o.hidden,
            usage=str(usage) if usage else None,
            sign=str(sign) if sign else None,
        )


@strawberry.type
class PmsOptions:
    payment_types: list[PmsListEntry]
    note_types: list[PmsListEntry]
    document_categories: list[PmsListEntry]
    adjustment_types: list[PmsListEntry]
    providers: list[PmsListEntry]
    fetched_at: datetime = strawberry.field(description="When these were read from the PMS")

    @classmethod
    def from_model(cls, m: pms_options.PmsOptions) -> PmsOptions:
        def entries(options: list[PmsOptionModel]) -> list[PmsListEntry]:
            return [PmsListEntry.from_model(o) for o in options if not o.hidden]

        return cls(
            payment_types=entries(m.payment_types),
            note_types=entries(m.note_types),
            document_categories=entries(m.document_categories),
            adjustment_types=entries(m.adjustment_types),
            providers=entries(m.providers),
            fetched_at=m.fetched_at,
        )


@strawberry.type
class Query:
    @strawberry.field(description="Who the API key belongs to")
    def me(self, info: Info) -> Me:
        p = info.context.require_principal()
        return Me(
            key_id=strawberry.ID(p.key_id),
            organization_id=strawberry.ID(p.organization_id),
            role=p.role,
            location_ids=[strawberry.ID(i) for i in sorted(p.location_ids)]
            if p.location_ids is not None
            else None,
        )

    @strawberry.field
    async def locations(self, info: Info) -> list[Location]:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            rows = await uow.locations.list(p.organization_id)
        return [Location.from_model(r) for r in rows if p.may_see_location(r.id)]

    @strawberry.field
    async def pms_connection(self, info: Info, location_id: strawberry.ID) -> PmsConnection | None:
        p = info.context.require_principal()
        p.require_staff()
        async with info.context.container.uow() as uow:
            await tenancy.require_location(uow, p, location_id)
            row = await uow.connections.get(location_id)
        return PmsConnection.from_model(row) if row else None

    @strawberry.field
    async def api_keys(self, info: Info) -> list[ApiKey]:
        p = info.context.require_principal()
        p.require_admin()
        async with info.context.container.uow() as uow:
            rows = await uow.api_keys.list(p.organization_id)
        return [ApiKey.from_model(r) for r in rows]

    @strawberry.field
    async def payment_writeback_settings(
        self, info: Info, location_id: strawberry.ID
    ) -> PaymentWritebackSettings:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            versioned = await payment_settings.get_settings(uow, p, location_id)
        return PaymentWritebackSettings.from_model(location_id, versioned)

    @strawberry.field(description="Audit of the location's payment settings, newest first")
    async def payment_writeback_settings_changes(
        self, info: Info, location_id: strawberry.ID
    ) -> list[SettingsChange]:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            rows = await payment_settings.settings_changes(uow, p, location_id)
        return [SettingsChange.from_model(r) for r in rows]

    @strawberry.field(description="The PMS's own payment types, to choose mappings from")
    async def pms_payment_types(self, info: Info, location_id: strawberry.ID) -> list[PmsOption]:
        connector = await _connector(info, location_id)
        types = await _from_pms(connector.list_payment_types())
        return [PmsOption(id=o.id, name=o.name) for o in types if not o.hidden]

    @strawberry.field(description="The PMS's adjustment types, for writing fees separately")
    async def pms_adjustment_types(
        self, info: Info, location_id: strawberry.ID
    ) -> list[PmsAdjustmentType]:
        connector = await _connector(info, location_id)
        types = await _from_pms(connector.list_adjustment_types())
        return [
            PmsAdjustmentType(id=o.id, name=o.name, sign=str(o.extra.get("sign", "")))
            for o in types
            if not o.hidden
        ]

    @strawberry.field(
        description="The PMS's own lists for a settings screen (active entries), cached briefly"
    )
    async def pms_options(self, info: Info, location_id: strawberry.ID) -> PmsOptions:
        p = info.context.require_principal()
        c = info.context.container
        async with c.uow() as uow:
            where = await pms_options.source(uow, p, c.secret_box, c.registry, location_id)
        cached = await c.cache.get(where.cache_key)
        if cached is not None:
            return PmsOptions.from_model(pms_options.PmsOptions.from_dict(cached))
        fresh = await pms_options.fetch(where.connector)
        await c.cache.set(where.cache_key, fresh.to_dict(), pms_options.CACHE_SECONDS)
        return PmsOptions.from_model(fresh)

    @strawberry.field(description="Writeback history, newest first")
    async def writebacks(
        self,
        info: Info,
        filter: WritebackFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> WritebackConnection:
        p = info.context.require_principal()
        if not 1 <= first <= MAX_PAGE:
            raise ValidationFailed([FieldError("first", f"must be between 1 and {MAX_PAGE}")])
        try:
            cursor = decode_cursor(after) if after else None
        except ValueError:
            raise ValidationFailed([FieldError("after", "is not a cursor from this API")]) from None
        f = filter or WritebackFilter()
        for name, moment in (("createdFrom", f.created_from), ("createdTo", f.created_to)):
            if moment is not None and moment.tzinfo is None:
                raise ValidationFailed([FieldError(name, "must include a UTC offset")])
        history_filter = HistoryFilter(
            organization_id=p.organization_id,
            location_ids=[f.location_id] if f.location_id else None,
            kind=f.kind.value if f.kind else None,
            statuses=[s.value for s in f.statuses] if f.statuses else None,
            created_from=f.created_from,
            created_to=f.created_to,
            occurred_from=f.occurred_from,
            occurred_to=f.occurred_to,
            patient_ref=f.patient_ref,
            source_id=f.source_id,
        )
        async with info.context.container.uow() as uow:
            page = await writebacks.history(uow, p, history_filter, cursor, first)
        edges = [
            WritebackEdge(
                cursor=encode_cursor(i), node=Writeback.from_model(i, page.attempts[i.id])
            )
            for i in page.items
        ]
        return WritebackConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field
    async def writeback(self, info: Info, id: strawberry.ID) -> Writeback:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            intent, attempts = await writebacks.get_writeback(uow, p, id)
        return Writeback.from_model(intent, attempts)

    @strawberry.field(description="The location's daily writeback runs, newest first")
    async def daily_runs(
        self, info: Info, location_id: strawberry.ID, first: int = 30
    ) -> list[DailyRun]:
        p = info.context.require_principal()
        if not 1 <= first <= MAX_PAGE:
            raise ValidationFailed([FieldError("first", f"must be between 1 and {MAX_PAGE}")])
        async with info.context.container.uow() as uow:
            rows = await daily.list_runs(uow, p, location_id, first)
        return [DailyRun.from_model(r) for r in rows]

    @strawberry.field
    async def notifications(
        self,
        info: Info,
        location_id: strawberry.ID | None = None,
        unacknowledged_only: bool = True,
        first: int = 50,
    ) -> list[Notification]:
        p = info.context.require_principal()
        if not 1 <= first <= MAX_PAGE:
            raise ValidationFailed([FieldError("first", f"must be between 1 and {MAX_PAGE}")])
        async with info.context.container.uow() as uow:
            rows = await notifications.list_notifications(
                uow, p, location_id, unacknowledged_only, first
            )
        return [Notification.from_model(n) for n in rows]
