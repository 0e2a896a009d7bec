"""Live events over Redis pub/sub, so every API process sees what any worker publishes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "wb:events:"


class RedisEventBus:
    """Publish JSON; subscribe with one pub/sub connection per subscriber.

    Pub/sub is at-most-once: a subscriber that reconnects may miss events, so clients
    treat events as hints and re-read history for the full picture.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, channel: str, payload: Mapping[str, Any]) -> None:
        await self._redis.publish(CHANNEL_PREFIX + channel, json.dumps(payload))

    async def subscribers(self, channel: str) -> int:
        counts = await self._redis.pubsub_numsub(CHANNEL_PREFIX + channel)
        return int(counts[0][1]) if counts else 0

    async def subscribe(self, channel: str) -> AsyncGenerator[dict[str, Any], None]:
        backoff = 0.5
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL_PREFIX + channel)
                    backoff = 0.5
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=1.0
                        )
                        if message is not None:
                            yield json.loads(message["data"])
            except (RedisConnectionError, RedisTimeoutError, OSError):
                # redis-py does not reconnect a pub/sub by itself.
                log.warning("event subscription lost its Redis connection; reconnecting")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
