"""Live events over Redis pub/sub, so every API process sees what any worker publishes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "wb:events:"
# Events a slow subscriber may have waiting; beyond it the oldest are dropped for it alone.
QUEUE_SIZE = 1000
_REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

Event = dict[str, Any]


class RedisEventBus:
    """Publish JSON; subscribers of one process share one pub/sub connection.

    Thousands of open staff screens would otherwise hold thousands of Redis connections.
    A reader task fans each message out to the local subscribers of its channel. Pub/sub is
    at-most-once: across a reconnect events may be missed, so clients treat events as hints
    and re-read for the full picture.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._local: dict[str, set[asyncio.Queue[Event]]] = {}
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        # Serializes (un)subscribing and reconnecting on the shared connection.
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, payload: Mapping[str, Any]) -> None:
        await self._redis.publish(CHANNEL_PREFIX + channel, json.dumps(payload))

    async def subscribers(self, channel: str) -> int:
        """Processes listening on `channel` (each counts once, whatever its subscribers)."""
        counts = await self._redis.pubsub_numsub(CHANNEL_PREFIX + channel)
        return int(counts[0][1]) if counts else 0

    async def subscribe(self, channel: str) -> AsyncGenerator[Event, None]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        await self._join(channel, queue)
        try:
            while True:
                yield await queue.get()
        finally:
            await self._leave(channel, queue)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._drop_connection()

    async def _join(self, channel: str, queue: asyncio.Queue[Event]) -> None:
        async with self._lock:
            queues = self._local.setdefault(channel, set())
            queues.add(queue)
            if len(queues) > 1:
                return
            try:
                await self._connection().subscribe(CHANNEL_PREFIX + channel)
            except _REDIS_ERRORS:
                log.warning("event subscription could not reach Redis; the reader retries")
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="event-bus-reader")

    async def _leave(self, channel: str, queue: asyncio.Queue[Event]) -> None:
        async with self._lock:
            queues = self._local.get(channel)
            if queues is None:
                return
            queues.discard(queue)
            if queues:
                return
            del self._local[channel]
            if self._pubsub is not None:
                with contextlib.suppress(*_REDIS_ERRORS):
                    await self._pubsub.unsubscribe(CHANNEL_PREFIX + channel)

    def _connection(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        return self._pubsub

    async def _read(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self._pubsub
            try:
                if pubsub is None or not pubsub.subscribed:
                    if not self._local:
                        await asyncio.sleep(0.2)
                        continue
                    await self._resubscribe()
                    continue
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                backoff = 0.5
            except _REDIS_ERRORS:
                # redis-py does not restore a pub/sub by itself: a new connection subscribes
                # again to every channel that still has subscribers here.
                log.warning("event subscription lost its Redis connection; reconnecting")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                async with self._lock:
                    await self._drop_connection()
                continue
            if message is not None:
                self._deliver(message)

    async def _resubscribe(self) -> None:
        async with self._lock:
            channels = [CHANNEL_PREFIX + c for c in self._local]
            if channels:
                await self._connection().subscribe(*channels)

    async def _drop_connection(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_REDIS_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, message: Mapping[str, Any]) -> None:
        channel = message["channel"]
        if isinstance(channel, bytes):
            channel = channel.decode()
        queues = self._local.get(channel.removeprefix(CHANNEL_PREFIX))
        if not queues:
            return
        event = json.loads(message["data"])
        for queue in queues:
            if queue.full():
                queue.get_nowait()  # a subscriber this far behind loses its oldest event
            queue.put_nowait(event)
