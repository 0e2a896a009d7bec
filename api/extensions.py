"""Schema extensions of our own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from api.context import Context


class RevokedKeyCheck(SchemaExtension):
    """A websocket authenticates once, at connection_init, but carries any number of
    operations; each one re-checks that the key has not been revoked since."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if (
            isinstance(context, Context)
            and isinstance(context.request, WebSocket)
            and context.principal
        ):
            principal = context.principal
            async with context.container.uow() as uow:
                key = await uow.api_keys.get(principal.organization_id, principal.key_id)
            if key is None or key.revoked_at is not None:
                context.principal = None
        yield
