"""The writeback provider is checked before a communication or document is written.

A provider hidden or removed in the PMS fails the item with a fix hint (and a notice)
rather than attributing entries to the wrong person. The PMS's provider list is cached per
connection for a minute, like the settings screen's lists, so a burst of messages costs one
read of the throttled PMS, not one per message.
"""

from __future__ import annotations

from domain.ports import PermanentError, PmsConnector, ShortCache

CACHE_SECONDS = 60.0
HINT = (
    "Choose an active writeback provider in the communication writeback settings, then "
    "retry the failed items."
)


async def require_active(
    cache: ShortCache, connector: PmsConnector, connection_key: str, provider_ref: str
) -> None:
    """:raises PermanentError: the provider is gone or hidden in the PMS."""
    key = f"writeback-providers:{connection_key}"
    cached = await cache.get(key)
    if cached is None:
        cached = {"hidden": {p.id: p.hidden for p in await connector.list_providers()}}
        await cache.set(key, cached, CACHE_SECONDS)
    hidden = cached["hidden"].get(provider_ref)
    if hidden is None:
        raise PermanentError("The writeback provider no longer exists in the PMS.", HINT)
    if hidden:
        raise PermanentError("The writeback provider is hidden or inactive in the PMS.", HINT)
