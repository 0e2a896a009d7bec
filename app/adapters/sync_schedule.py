"""The polling schedule in Redis: one sorted set of next-due times, shared by every worker.

`wb:sync:due` scores each member ("<location>:<resource>") with its next due time (ms, on
Redis's clock); `wb:sync:plan` holds its "interval_ms:phase_ms". Taking due members and
moving each to its next grid point is one Lua script, so two schedulers can never hand out
the same tick. Losing Redis loses only the schedule: the worker re-plans every enabled
(location, resource) from the database within seconds.
"""

from __future__ import annotations

from redis.asyncio import Redis

DUE_KEY = "wb:sync:due"
PLAN_KEY = "wb:sync:plan"

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_GRID = """
local function grid_after(after, iv, ph)
  return ph + (math.floor((after - ph) / iv) + 1) * iv
end
"""

# KEYS: due, plan. ARGV: lookahead_ms, limit. Returns {now, member1, due1, member2, ...}.
_TAKE_DUE = (
    _NOW
    + _GRID
    + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now + tonumber(ARGV[1]),
  'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {tostring(now)}
for i = 1, #due, 2 do
  local member = due[i]
  local score = tonumber(due[i + 1])
  local plan = redis.call('HGET', KEYS[2], member)
  if plan then
    local sep = string.find(plan, ':')
    local iv = tonumber(string.sub(plan, 1, sep - 1))
    local ph = tonumber(string.sub(plan, sep + 1))
    redis.call('ZADD', KEYS[1], grid_after(math.max(score, now), iv, ph), member)
    table.insert(out, member)
    table.insert(out, string.format('%d', score))
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
"""
)

# KEYS: due, plan. ARGV: member, interval_ms, phase_ms.
_PLAN = (
    _NOW
    + _GRID
    + """
local plan = ARGV[2] .. ':' .. ARGV[3]
local old = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], plan)
local nxt = grid_after(now, tonumber(ARGV[2]), tonumber(ARGV[3]))
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur then
  redis.call('ZADD', KEYS[1], nxt, ARGV[1])
elseif old ~= plan and nxt < tonumber(cur) then
  redis.call('ZADD', KEYS[1], nxt, ARGV[1])
end
return 1
"""
)

# KEYS: due. ARGV: member, delay_ms. Pushes the next poll back, never forward.
_DEFER = (
    _NOW
    + """
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
local at = now + tonumber(ARGV[2])
if cur and tonumber(cur) < at then
  redis.call('ZADD', KEYS[1], at, ARGV[1])
end
return 1
"""
)


class RedisSyncSchedule:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._take_due = redis.register_script(_TAKE_DUE)
        self._plan = redis.register_script(_PLAN)
        self._defer = redis.register_script(_DEFER)

    async def plan(self, member: str, interval_seconds: float, phase_ms: int) -> None:
        await self._plan(
            keys=[DUE_KEY, PLAN_KEY], args=[member, int(interval_seconds * 1000), phase_ms]
        )

    async def remove(self, member: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(DUE_KEY, member)
            pipe.hdel(PLAN_KEY, member)
            await pipe.execute()

    async def defer(self, member: str, seconds: float) -> None:
        await self._defer(keys=[DUE_KEY], args=[member, int(seconds * 1000)])

    async def planned(self) -> dict[str, float]:
        plans: dict[bytes, bytes] = await self._redis.hgetall(PLAN_KEY)  # type: ignore[misc]
        return {
            _text(member): int(_text(plan).split(":", 1)[0]) / 1000
            for member, plan in plans.items()
        }

    async def take_due(
        self, lookahead_seconds: float, limit: int
    ) -> tuple[int, list[tuple[str, int]]]:
        """Members due within `lookahead_seconds`, each moved on to its next grid point:
        (Redis's clock in ms, [(member, due ms)])."""
        answer = await self._take_due(
            keys=[DUE_KEY, PLAN_KEY], args=[int(lookahead_seconds * 1000), limit]
        )
        now = int(_text(answer[0]))
        pairs = answer[1:]
        return now, [(_text(pairs[i]), int(_text(pairs[i + 1]))) for i in range(0, len(pairs), 2)]

    async def next_due(self, member: str) -> int | None:
        score = await self._redis.zscore(DUE_KEY, member)
        return None if score is None else int(score)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
