from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

KEY_PREFIX = "wb:cache:"


class RedisShortCache:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self._redis.get(KEY_PREFIX + key)
        return json.loads(raw) if raw else None

    async def set(self, key: str, value: Mapping[str, Any], ttl_seconds: float) -> None:
        await self._redis.set(KEY_PREFIX + key, json.dumps(value), px=int(ttl_seconds * 1000))
