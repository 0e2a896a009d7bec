"""The event bus: one pub/sub connection per process, fanned out to its subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from app.adapters.events import RedisEventBus
from tests.fixtures.stack import eventually


@pytest.fixture
async def named_redis(clean_redis: str) -> AsyncIterator[tuple[Redis, str]]:
    """A client whose connections carry a name of their own, so a test can find them."""
    name = f"wb-test-{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(clean_redis, client_name=name)
    try:
        yield client, name
    finally:
        await client.aclose()


async def _our_pubsub_connections(redis: Redis, name: str) -> list[dict[str, Any]]:
    return [c for c in await redis.client_list() if c.get("name") == name and c["sub"] != "0"]


@contextlib.asynccontextmanager
async def listening(
    bus: RedisEventBus, channel: str, count: int
) -> AsyncIterator[list[list[dict[str, Any]]]]:
    received: list[list[dict[str, Any]]] = [[] for _ in range(count)]

    async def listen(into: list[dict[str, Any]]) -> None:
        async with contextlib.aclosing(bus.subscribe(channel)) as events:
            async for event in events:
                into.append(event)

    tasks = [asyncio.create_task(listen(r)) for r in received]

    async def subscribed() -> bool:
        return await bus.subscribers(channel) == 1

    await eventually(subscribed)
    await asyncio.sleep(0.05)  # every task has joined
    try:
        yield received
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_many_subscribers_share_one_redis_connection_and_all_get_each_event(
    named_redis: tuple[Redis, str],
) -> None:
    redis, name = named_redis
    bus = RedisEventBus(redis)
    channel = f"test:{uuid.uuid4().hex}"
    try:
        async with listening(bus, channel, 50) as received:
            assert len(await _our_pubsub_connections(redis, name)) == 1
            await bus.publish(channel, {"n": 1})
            await eventually(lambda: _true(all(r == [{"n": 1}] for r in received)))
    finally:
        await bus.close()


async def test_the_last_subscriber_leaving_unsubscribes_the_channel(
    named_redis: tuple[Redis, str],
) -> None:
    redis, _ = named_redis
    bus = RedisEventBus(redis)
    channel = f"test:{uuid.uuid4().hex}"
    try:
        async with listening(bus, channel, 3):
            pass

        async def gone() -> bool:
            return await bus.subscribers(channel) == 0

        await eventually(gone)
    finally:
        await bus.close()


async def test_subscribers_keep_receiving_after_the_connection_is_killed(
    named_redis: tuple[Redis, str],
) -> None:
    redis, name = named_redis
    bus = RedisEventBus(redis)
    channel = f"test:{uuid.uuid4().hex}"
    try:
        async with listening(bus, channel, 2) as received:
            [connection] = await _our_pubsub_connections(redis, name)
            await redis.client_kill_filter(_id=connection["id"])

            async def back() -> bool:
                await bus.publish(channel, {"after": "reconnect"})
                return all(r for r in received)

            await eventually(back, timeout=20)
    finally:
        await bus.close()


async def _true(value: bool) -> bool:
    return value
