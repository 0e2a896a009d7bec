from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.bootstrap import Container

CONTAINER = "container"


def container_of(ctx: dict[str, Any]) -> Container:
    return ctx[CONTAINER]  # type: ignore[no-any-return]
