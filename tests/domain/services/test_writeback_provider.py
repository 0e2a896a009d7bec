"""The writeback provider check (fakes for the cache and the PMS: a pure rule)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from domain.ports import PermanentError, PmsOption
from domain.services.writeback_provider import require_active


class Cache:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        return self.values.get(key)

    async def set(self, key: str, value: Mapping[str, Any], ttl_seconds: float) -> None:
        self.values[key] = dict(value)


class Pms:
    def __init__(self, *providers: PmsOption) -> None:
        self.providers = list(providers)
        self.reads = 0

    async def list_providers(self) -> list[PmsOption]:
        self.reads += 1
        return self.providers


async def test_a_burst_of_entries_reads_the_providers_once_per_connection() -> None:
    cache, pms = Cache(), Pms(PmsOption("1", "DOC1"))
    for _ in range(3):
        await require_active(cache, pms, "office-a", "1")  # type: ignore[arg-type]
    await require_active(cache, pms, "office-b", "1")  # type: ignore[arg-type]
    assert pms.reads == 2


@pytest.mark.parametrize(
    ("providers", "words"),
    [((PmsOption("2", "DOC2"),), "no longer exists"), ((PmsOption("1", "DOC1", True),), "hidden")],
)
async def test_a_missing_or_hidden_provider_refuses_the_write_with_a_hint(
    providers: tuple[PmsOption, ...], words: str
) -> None:
    with pytest.raises(PermanentError) as refused:
        await require_active(Cache(), Pms(*providers), "office", "1")  # type: ignore[arg-type]
    assert words in refused.value.message
    assert "writeback provider" in refused.value.hint
