from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import strawberry

from api.context import Info
from api.types.writeback import WritebackEvent
from domain.errors import Forbidden
from domain.events import writeback_channel
from domain.services import tenancy

# A revoked key's open stream ends at its next event after at most this many seconds.
REAUTHORIZE_SECONDS = 15.0


async def location_events(
    info: Info, location_id: str, channel: str
) -> AsyncGenerator[dict[str, Any], None]:
    """The events of one of a location's channels, for staff of its organization only."""
    principal = info.context.require_principal()
    principal.require_staff()
    container = info.context.container
    async with container.uow() as uow:
        await tenancy.require_location(uow, principal, location_id)
    checked_at = time.monotonic()
    async with aclosing(container.events.subscribe(channel)) as events:
        async for event in events:
            # Channels are per location; the organization check guards against a mix-up.
            if event.get("organization_id") != principal.organization_id:
                continue
            if time.monotonic() - checked_at > REAUTHORIZE_SECONDS:
                async with container.uow() as uow:
                    key = await uow.api_keys.get(principal.organization_id, principal.key_id)
                if key is None or key.revoked_at is not None:
                    raise Forbidden("the API key was revoked")
                checked_at = time.monotonic()
            yield event


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every status change of the location's writebacks")
    async def writeback_events(
        self, info: Info, location_id: strawberry.ID
    ) -> AsyncGenerator[WritebackEvent, None]:
        async with aclosing(
            location_events(info, location_id, writeback_channel(location_id))
        ) as events:
            async for event in events:
                yield WritebackEvent.from_payload(event)
