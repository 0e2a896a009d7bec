"""Per-connection call throttle shared by every worker, kept in Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from domain.ports import Throttled

KEY_PREFIX = "wb:throttle:"

# Reserves the next free slot using Redis's own clock, so workers on different machines
# agree. Refuses (negative answer) instead of reserving a slot too far away.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
local wait = slot - now
if wait > tonumber(ARGV[2]) then return -wait end
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', wait + tonumber(ARGV[1]) + 1000)
return wait
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_RESERVE)

    async def reserve(self, key: str, interval_seconds: float, max_wait_seconds: float) -> float:
        if interval_seconds <= 0:
            return 0.0
        answer = int(
            await self._script(
                keys=[KEY_PREFIX + key],
                args=[int(interval_seconds * 1000), int(max_wait_seconds * 1000)],
            )
        )
        if answer < 0:
            raise Throttled("the connection's write throttle is busy", retry_after=-answer / 1000)
        return answer / 1000
