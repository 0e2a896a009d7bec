from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from app.bootstrap import Container
from domain.errors import DomainError
from domain.principal import Principal


class Unauthenticated(DomainError):
    pass


@dataclass
class Context:
    container: Container
    principal: Principal | None = None
    # Strawberry stores the websocket connection_init payload here, only if the field exists.
    connection_params: dict[str, Any] | None = field(default=None)
    request: Any = None
    response: Any = None
    # Per-request DataLoaders by name (see api.types.writeback.notification_writeback_ids).
    loaders: dict[str, Any] = field(default_factory=dict)

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("authenticate with an API key (Authorization: Bearer <key>)")
        return self.principal


Info = strawberry.Info[Context, None]
