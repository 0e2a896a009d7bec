"""GraphQL types of notice webhooks and live notice events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api.types.writeback import Notification
from domain.notices import NoticeEvent
from domain.persistence.models import WebhookDelivery as DeliveryModel
from domain.persistence.models import WebhookEndpoint as EndpointModel
from domain.webhooks import DeliveryStatus

# Registers the domain enums with strawberry (fields are annotated with the domain enums).
strawberry.enum(NoticeEvent, name="NotificationEventKind", description="What happened to a notice")
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type
class NotificationEvent:
    event: NoticeEvent
    notification: Notification
    at: datetime

    @classmethod
    def from_payload(cls, e: dict[str, Any]) -> NotificationEvent:
        return cls(
            event=NoticeEvent(e["event"]),
            notification=Notification.from_payload(e["notification"]),
            at=datetime.fromisoformat(e["at"]),
        )


@strawberry.type
class NotificationWebhook:
    """Where the location's notices are POSTed (the signing secret is never shown again)."""

    location_id: strawberry.ID
    url: str
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, m: EndpointModel) -> NotificationWebhook:
        return cls(
            location_id=strawberry.ID(m.location_id),
            url=m.url,
            enabled=m.enabled,
            created_at=m.created_at,
            updated_at=m.updated_at,
        )


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Also the X-Writeback-Delivery header")
    notification_id: strawberry.ID
    event: NoticeEvent
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When a pending delivery is tried next"
    )
    created_at: datetime
    delivered_at: datetime | None
    payload: JSON = strawberry.field(description="The JSON body as sent")

    @classmethod
    def from_model(cls, m: DeliveryModel) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(m.id),
            notification_id=strawberry.ID(m.notification_id),
            event=NoticeEvent(m.event),
            status=DeliveryStatus(m.status),
            attempts=m.attempts,
            last_status_code=m.last_status_code,
            last_error=m.last_error,
            next_attempt_at=m.next_attempt_at if m.status == DeliveryStatus.PENDING else None,
            created_at=m.created_at,
            delivered_at=m.delivered_at,
            payload=cast(JSON, m.payload),
        )
