"""The Redis bus against a real redis-server: two buses stand for two processes (a runner that
publishes, a web process that delivers)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from pressbox.bus import Batch, Subscription
from pressbox.bus.redis import RedisBus
from pressbox.clock import ScaledClock
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.store import Store
from pressbox.web import create_app
from pressbox.web.server import running
from stores import add_game, migrated_store

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
#: Short waits and retries, so that a lost connection is found and re-opened within a test.
FAST: dict[str, Any] = {"timeout": 2.0, "idle": 5.0, "retry_initial": 0.05, "retry_cap": 0.5}
WAIT = 10.0  # bound of every wait for something that should happen


def stored(*seqs: int) -> list[StoredEvent]:
    at = T0 + timedelta(microseconds=123456)
    return [
        StoredEvent(seq, EventType.PLAY_ADDED, f"play:p{seq}", at, {"id": f"p{seq}", "n": seq})
        for seq in seqs
    ]


def game() -> str:
    return f"g-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def two_buses(redis_url: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """A publishing bus and a subscribing one, as two processes would hold."""
    runner, web = RedisBus(redis_url, **FAST), RedisBus(redis_url, **FAST)
    try:
        yield runner, web
    finally:
        await runner.aclose()
        await web.aclose()


async def next_batch(subscription: Subscription) -> Batch:
    async with asyncio.timeout(WAIT):
        return await subscription.get()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` until it holds (bounded)."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"not within {WAIT:g} s: {what}")


async def numsub(url: str, game_id: str) -> int:
    """How many connections Redis has subscribed to the game's channel (all processes)."""
    client = Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(RedisBus.channel(game_id))
        return int(count)
    finally:
        await client.aclose()


async def listeners(url: str) -> list[str]:
    """The number of channels of each pub/sub connection with any (CLIENT LIST)."""
    client = Redis.from_url(url)
    try:
        found = await client.client_list(_type="pubsub")
        return [c["sub"] for c in found if c["sub"] != "0"]
    finally:
        await client.aclose()


async def test_batches_from_one_process_reach_the_others_subscribers_in_order_once(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    runner, web = two_buses
    g = game()
    async with web.subscribe(g) as first, web.subscribe(g) as second:
        batches = [stored(1, 2), stored(3), stored(4, 5, 6)]
        for batch in batches:
            await runner.publish(g, batch)
        for subscription in (first, second):
            assert [list(await next_batch(subscription)) for _ in batches] == batches
        await runner.publish(g, [])  # nothing to say: nothing sent
        await asyncio.sleep(0.2)
        assert first.queue.empty() and second.queue.empty()
        assert first.dropped == second.dropped == 0
    assert runner.publish_failures == 0


async def test_games_are_isolated(two_buses: tuple[RedisBus, RedisBus]) -> None:
    runner, web = two_buses
    one, other = game(), game()
    async with web.subscribe(one) as sub_one, web.subscribe(other) as sub_other:
        await runner.publish(one, stored(1))
        await runner.publish(other, stored(7, 8))
        assert list(await next_batch(sub_one)) == stored(1)
        assert list(await next_batch(sub_other)) == stored(7, 8)
        await asyncio.sleep(0.2)
        assert sub_one.queue.empty() and sub_other.queue.empty()


async def test_local_subscribers_share_one_redis_subscription_until_the_last_leaves(
    two_buses: tuple[RedisBus, RedisBus], redis_url: str
) -> None:
    runner, web = two_buses
    g, other = game(), game()
    async with web.subscribe(g) as a, web.subscribe(g) as b, web.subscribe(other):
        async with web.subscribe(g) as c:
            assert web.subscriber_count(g) == 3
            assert await numsub(redis_url, g) == 1
            await runner.publish(g, stored(1))
            assert [list(await next_batch(s)) for s in (a, b, c)] == [stored(1)] * 3
        assert web.subscriber_count(g) == 2
        assert await numsub(redis_url, g) == 1
        await runner.publish(g, stored(2))
        assert [list(await next_batch(s)) for s in (a, b)] == [stored(2)] * 2
        # One pub/sub connection carries every game of the process.
        assert await listeners(redis_url) == ["2"]
    assert web.subscriber_count(g) == 0

    async def unsubscribed() -> bool:
        return await numsub(redis_url, g) == 0 and await numsub(redis_url, other) == 0

    await eventually(unsubscribed, "the last subscriber's leaving unsubscribes the channel")


async def test_the_bus_reconnects_after_a_redis_restart_and_resubscribes(
    private_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pressbox.bus.redis")
    server = private_redis
    runner, web = RedisBus(server.url, **FAST), RedisBus(server.url, **FAST)
    g, late = game(), game()
    try:
        async with web.subscribe(g) as subscription:
            await runner.publish(g, stored(1))
            assert list(await next_batch(subscription)) == stored(1)

            server.stop()
            await runner.publish(g, stored(2))  # logged, not raised: the log has the event
            assert runner.publish_failures == 1
            assert not await runner.ping()
            async with asyncio.timeout(FAST["timeout"] + 1):  # Redis down: no long wait
                late_subscription = await web.subscribe(late).__aenter__()

            server.start()
            await eventually(runner.ping, "the publisher reaches Redis again")

            async def resubscribed() -> bool:
                return await numsub(server.url, g) == 1 and await numsub(server.url, late) == 1

            await eventually(resubscribed, "the reader re-subscribes every channel")
            assert web.reconnects == 1
            await runner.publish(g, stored(3))
            await runner.publish(late, stored(1))
            assert list(await next_batch(subscription)) == stored(3)  # 2 is for the log
            assert list(await next_batch(late_subscription)) == stored(1)
            await late_subscription.__aexit__(None, None, None)
    finally:
        await runner.aclose()
        await web.aclose()
    messages = [record.getMessage() for record in caplog.records]
    assert any("seq 2..2 of game" in m and "not published" in m for m in messages)
    assert any("connection lost" in m for m in messages)
    assert any("reconnected, 2 channel(s) subscribed" in m for m in messages)


async def test_a_killed_connection_is_reopened(
    two_buses: tuple[RedisBus, RedisBus], redis_url: str
) -> None:
    runner, web = two_buses
    g = game()
    async with web.subscribe(g) as subscription:
        admin = Redis.from_url(redis_url)
        try:
            assert await admin.client_kill_filter(_type="pubsub") >= 1
        finally:
            await admin.aclose()

        async def reopened() -> bool:
            return web.reconnects == 1 and await numsub(redis_url, g) == 1

        await eventually(reopened, "the reader reconnects after CLIENT KILL")
        await runner.publish(g, stored(1))
        assert list(await next_batch(subscription)) == stored(1)


async def test_an_unreachable_redis_is_logged_and_nobody_waits_long(
    unreachable_redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisBus(unreachable_redis_url, **FAST)
    try:
        await bus.publish("g", stored(1))
        assert bus.publish_failures == 1
        assert not await bus.ping()
        async with asyncio.timeout(FAST["timeout"] + 1), bus.subscribe("g") as subscription:
            assert bus.subscriber_count("g") == 1
            assert subscription.queue.empty()
    finally:
        await bus.aclose()
    assert not await bus.ping()
    assert any("not published" in r.getMessage() for r in caplog.records)
    assert any("cannot connect" in r.getMessage() for r in caplog.records)


async def test_aclose_stops_the_reader_and_refuses_new_work(redis_url: str) -> None:
    bus = RedisBus(redis_url, **FAST)
    async with bus.subscribe(game()):
        assert await bus.ping()
    reader = bus._reader
    await bus.aclose()
    await bus.aclose()  # idempotent
    assert reader is not None and reader.done()
    with pytest.raises(RuntimeError, match="closed"):
        await bus.publish("g", stored(1))


# --- the web's WebSocket path over Redis -----------------------------------------------------


GAME = "401756846"


def play(n: int) -> Event:
    data = {"id": f"p{n}", "sequence": n, "period": 1, "clock": "15:00", "text": f"#{n}"}
    return Event(EventType.PLAY_ADDED, f"play:p{n}", T0 + timedelta(seconds=n), data)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/pressbox.db") as store:
        await add_game(store, GAME, T0)
        await store.append(GAME, [play(1), play(2)])
        yield store


async def receive(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type `kind` (skipping status and heartbeat messages)."""
    async with asyncio.timeout(WAIT):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)
            assert message["type"] in ("status", "heartbeat"), message


async def test_a_viewer_gets_what_another_process_commits_even_a_batch_redis_lost(
    store: Store, redis_url: str, unreachable_redis_url: str
) -> None:
    runner, web = RedisBus(redis_url, **FAST), RedisBus(redis_url, **FAST)
    unreachable = RedisBus(unreachable_redis_url, **FAST)
    app = create_app(store, web, ScaledClock(T0), heartbeat=60.0)
    try:
        async with running(app, "127.0.0.1", 0) as base:
            url = base.replace("http://", "ws://") + f"/ws/live/{GAME}"
            async with connect(url, open_timeout=WAIT, close_timeout=WAIT) as ws:
                assert (await receive(ws, "snapshot"))["seq"] == 2

                async def subscribed() -> bool:
                    return await numsub(redis_url, GAME) == 1

                await eventually(subscribed, "the web process subscribed the game")
                await runner.publish(GAME, await store.append(GAME, [play(3)]))
                message = await receive(ws, "events")
                assert [e["seq"] for e in message["events"]] == [3]
                assert message["events"][0]["data"]["text"] == "#3"

                # A batch committed but never published (Redis unreachable from the runner)...
                await unreachable.publish(GAME, await store.append(GAME, [play(4)]))
                assert unreachable.publish_failures == 1
                # ...reaches the viewer from the log when the next batch shows the gap.
                await runner.publish(GAME, await store.append(GAME, [play(5)]))
                seqs: list[int] = []
                while seqs[-1:] != [5]:
                    seqs += [e["seq"] for e in (await receive(ws, "events"))["events"]]
                assert seqs == [4, 5]
    finally:
        await unreachable.aclose()
        await runner.aclose()
        await web.aclose()
