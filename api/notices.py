"""Notices: their webhook (admin), its delivery log, and live notice events (staff)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated

import strawberry

from api.context import Info
from api.errors import AnyUserError
from api.mutations import _in_unit_of_work
from api.subscriptions import location_events
from api.types.notices import NotificationEvent, NotificationWebhook, WebhookDelivery
from domain.errors import FieldError, ValidationFailed
from domain.events import notification_channel
from domain.persistence.uow import UnitOfWork
from domain.principal import Principal
from domain.services import webhooks

MAX_PAGE = 100


@strawberry.type
class SetNotificationWebhookSuccess:
    webhook: NotificationWebhook
    secret: str = strawberry.field(
        description="Signs every delivery (X-Writeback-Signature); shown only this once"
    )


@strawberry.type
class RemoveNotificationWebhookSuccess:
    location_id: strawberry.ID
    removed: bool = strawberry.field(description="False when there was no webhook")


SetNotificationWebhookResult = Annotated[
    SetNotificationWebhookSuccess | AnyUserError, strawberry.union("SetNotificationWebhookResult")
]
RemoveNotificationWebhookResult = Annotated[
    RemoveNotificationWebhookSuccess | AnyUserError,
    strawberry.union("RemoveNotificationWebhookResult"),
]


@strawberry.type
class NoticeQuery:
    @strawberry.field(description="The location's notice webhook, if any (never its secret)")
    async def notification_webhook(
        self, info: Info, location_id: strawberry.ID
    ) -> NotificationWebhook | None:
        p = info.context.require_principal()
        async with info.context.container.uow() as uow:
            row = await webhooks.get_webhook(uow, p, location_id)
        return NotificationWebhook.from_model(row) if row else None

    @strawberry.field(description="The location's webhook deliveries and their log, newest first")
    async def webhook_deliveries(
        self, info: Info, location_id: strawberry.ID, first: int = 50
    ) -> list[WebhookDelivery]:
        p = info.context.require_principal()
        if not 1 <= first <= MAX_PAGE:
            raise ValidationFailed([FieldError("first", f"must be between 1 and {MAX_PAGE}")])
        async with info.context.container.uow() as uow:
            rows = await webhooks.list_deliveries(uow, p, location_id, first)
        return [WebhookDelivery.from_model(r) for r in rows]


@strawberry.type
class NoticeMutation:
    @strawberry.mutation(
        description="POST the location's notices to this URL (https; http only for localhost). "
        "Returns a new signing secret, shown once; setting it again replaces the secret."
    )
    async def set_notification_webhook(
        self, info: Info, location_id: strawberry.ID, url: str
    ) -> SetNotificationWebhookResult:
        c = info.context.container

        async def work(uow: UnitOfWork, p: Principal) -> SetNotificationWebhookSuccess:
            issued = await webhooks.set_webhook(uow, p, c.secret_box, location_id, url)
            return SetNotificationWebhookSuccess(
                webhook=NotificationWebhook.from_model(issued.endpoint), secret=issued.secret
            )

        return await _in_unit_of_work(info, work)

    @strawberry.mutation(description="Stop POSTing notices; pending deliveries end failed")
    async def remove_notification_webhook(
        self, info: Info, location_id: strawberry.ID
    ) -> RemoveNotificationWebhookResult:
        async def work(uow: UnitOfWork, p: Principal) -> RemoveNotificationWebhookSuccess:
            removed = await webhooks.remove_webhook(uow, p, location_id)
            return RemoveNotificationWebhookSuccess(location_id=location_id, removed=removed)

        return await _in_unit_of_work(info, work)


@strawberry.type
class NoticeSubscription:
    @strawberry.subscription(
        description="The location's notices as they are opened, updated and resolved"
    )
    async def notification_events(
        self, info: Info, location_id: strawberry.ID
    ) -> AsyncGenerator[NotificationEvent, None]:
        async with aclosing(
            location_events(info, location_id, notification_channel(location_id))
        ) as events:
            async for event in events:
                yield NotificationEvent.from_payload(event)
