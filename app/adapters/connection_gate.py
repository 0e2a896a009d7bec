"""Per-connection cap on postings in flight, shared by every worker through Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from domain.ports import Throttled

KEY_PREFIX = "wb:inflight:"

# Holders are members of a sorted set scored by when they entered. A holder older than the
# lease (its worker died) is dropped, so a crash cannot leak a place for good.
_ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


class RedisConnectionGate:
    def __init__(self, redis: Redis, limit: int, lease_seconds: float) -> None:
        self._redis = redis
        self._enter = redis.register_script(_ENTER)
        self._limit = limit
        self._lease_ms = int(lease_seconds * 1000)

    @asynccontextmanager
    async def hold(self, key: str, limit: int | None = None) -> AsyncIterator[None]:
        holder = uuid.uuid4().hex
        entered = await self._enter(
            keys=[KEY_PREFIX + key], args=[limit or self._limit, self._lease_ms, holder]
        )
        if not int(entered):
            raise Throttled(
                "this practice already has postings waiting on its PMS", retry_after=0.5
            )
        try:
            yield
        finally:
            await self._redis.zrem(KEY_PREFIX + key, holder)
