"""Webhook delivery against a real HTTP receiver on loopback: order, signatures, filters, retries
without gaps, the failing status, leases between two dispatchers, and the subscription lifecycle.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pressbox.clock import ScaledClock
from pressbox.config import Settings
from pressbox.domain.events import Event, EventType
from pressbox.domain.webhooks import WebhookStatus
from pressbox.store import Store
from pressbox.store.webhooks import Webhooks
from pressbox.streaming.webhooks import WebhookDispatcher
from stores import add_game, migrated_store, play
from webhook_receiver import receiving

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
SECRET = "whsec-test-0123456789"
SPEED = 100.0  # replay clock: 1 s of it is 10 ms


def settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "lease_ttl_seconds": 30.0,
        "runner_poll_seconds": 1.0,
        "webhook_poll_seconds": 1.0,
        "webhook_batch_events": 40,
        "webhook_retry_cap_seconds": 4.0,
    }
    return Settings(**{**values, **changes})


@asynccontextmanager
async def dispatching(
    store: Store, clock: ScaledClock, owner: str = "runner-a", **changes: Any
) -> AsyncIterator[WebhookDispatcher]:
    """A dispatcher claiming and delivering until the context ends."""
    async with WebhookDispatcher(store, clock, settings(**changes), owner) as dispatcher:
        task = asyncio.create_task(dispatcher.run_forever())
        try:
            yield dispatcher
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def until(check: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    """Poll `check` (a function or a coroutine function) until it returns something true."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def plays(first: int, count: int) -> list[Event]:
    return [play(n, T0) for n in range(first, first + count)]


def score(n: int) -> Event:
    return Event(EventType.SCORE, f"score:{n}", T0, {"home": n, "away": 0})


async def test_every_event_arrives_once_in_seq_order_signed(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        await add_game(store, "g1", T0)
        hooks = Webhooks(store)
        with receiving(SECRET) as receiver:
            webhook = await hooks.add(receiver.url, None, None, SECRET, T0)
            clock = ScaledClock(T0, SPEED)
            async with dispatching(store, clock) as dispatcher:
                for first in range(1, 101, 25):  # the game goes on while the hook delivers
                    await store.append("g1", plays(first, 25))
                    await asyncio.sleep(0.02)
                await until(lambda: len(receiver.events("g1")) >= 100, "100 events")
                # The cursor moves after the receiver's 2xx: a stop before would send again.
                await until(lambda: _cursor_at(hooks, webhook.id, 100), "the cursor at 100")
                assert dispatcher.held == {webhook.id}
            got = receiver.delivered()
            assert all(r.signed for r in receiver.received), "a signature did not check out"
            assert {r.webhook_id for r in got} == {str(webhook.id)}
            assert [e["seq"] for e in receiver.events("g1")] == list(range(1, 101))
            assert all(len(r.body["events"]) <= 40 for r in got)  # PRESSBOX_WEBHOOK_BATCH_EVENTS
            assert got[0].body["after"] == 0 and got[-1].body["through"] == 100
            receiver.assert_no_gap("g1", redelivered=False)
            assert [e["data"]["id"] for e in receiver.events("g1")][:2] == ["p1", "p2"]
        assert await hooks.cursors(webhook.id) == {"g1": 100}
        stored = await hooks.get(webhook.id)
        assert stored is not None and stored.delivered == 100 and stored.owner is None
        attempts = await hooks.attempts(webhook.id)
        assert attempts and all(a.error is None and a.status_code == 200 for a in attempts)
        assert sum(a.events for a in attempts) == 100


async def test_a_filter_delivers_only_its_league_and_types_and_says_what_it_covers(
    tmp_path: Path,
) -> None:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store:
        await add_game(store, "nfl1", T0)
        await add_game(store, "nba1", T0, sport="basketball", league="nba")
        with receiving(SECRET) as receiver:
            hooks = Webhooks(store)
            kinds = frozenset({EventType.PLAY_ADDED})
            webhook = await hooks.add(receiver.url, kinds, "nba", SECRET, T0)
            for game in ("nfl1", "nba1"):
                await store.append(game, [*plays(1, 3), score(1), *plays(4, 2), score(2)])
            async with dispatching(store, ScaledClock(T0, SPEED)):
                await until(
                    lambda: receiver.delivered() and receiver.delivered()[-1].body["through"] == 7,
                    "the whole nba log covered",
                )
                await until(lambda: _cursor_at(hooks, webhook.id, 7, "nba1"), "the cursor at 7")
            assert {r.body["game_id"] for r in receiver.received} == {"nba1"}
            events = receiver.events("nba1")
            assert [e["type"] for e in events] == ["play_added"] * 5
            assert [e["seq"] for e in events] == [1, 2, 3, 5, 6]  # 4 and 7 are scores
            assert receiver.delivered()[0].body["league"] == "nba"
        assert await hooks.cursors(webhook.id) == {"nba1": 7}


async def test_a_failing_receiver_is_retried_without_a_gap_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "pressbox.streaming.webhooks")
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store:
        await add_game(store, "g1", T0)
        clock = ScaledClock(T0, SPEED)
        outage = {"until": T0 + timedelta(minutes=3)}  # the receiver 500s 3 minutes of replay
        with receiving(SECRET) as receiver:
            receiver.failing = lambda: clock.now() < outage["until"]
            hooks = Webhooks(store)
            webhook = await hooks.add(receiver.url, None, None, SECRET, T0)
            await store.append("g1", plays(1, 30))
            async with dispatching(store, clock, webhook_failing_after_seconds=60.0):
                failing = await until(
                    lambda: _status(hooks, webhook.id, WebhookStatus.FAILING), "failing"
                )
                assert failing.last_error == "HTTP 500" and failing.failing_since is not None
                await store.append("g1", plays(31, 30))  # more events during the outage
                await until(lambda: len(receiver.unique_seqs("g1")) >= 60, "every event")
                active = await until(
                    lambda: _delivered(hooks, webhook.id, 60), "active again, 60 delivered"
                )
        assert active.status is WebhookStatus.ACTIVE and active.failing_since is None
        assert receiver.unique_seqs("g1") == list(range(1, 61))
        receiver.assert_no_gap("g1", redelivered=False)
        refused = [r for r in receiver.received if r.answered == 500]
        assert len(refused) >= 3  # retried: 1 s, 2 s, 4 s (capped) ... of replay time
        assert all(r.body["after"] == 0 for r in refused)  # always the same cursor
        attempts = await hooks.attempts(webhook.id, limit=200)
        assert sum(a.status_code == 500 for a in attempts) == len(refused)
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 2, warnings  # one when it starts failing, one when it recovers
        assert "failing: HTTP 500" in warnings[0]
        assert f"after {len(refused)} failed attempt(s)" in warnings[1]


async def _cursor_at(hooks: Webhooks, webhook_id: int, seq: int, game_id: str = "g1") -> bool:
    return (await hooks.cursors(webhook_id)).get(game_id) == seq


async def _delivered(hooks: Webhooks, webhook_id: int, count: int) -> Any:
    webhook = await hooks.get(webhook_id)
    return webhook if webhook is not None and webhook.delivered == count else None


async def _status(hooks: Webhooks, webhook_id: int, status: WebhookStatus) -> Any:
    webhook = await hooks.get(webhook_id)
    return webhook if webhook is not None and webhook.status is status else None


async def test_one_dispatcher_holds_a_webhook_and_another_resumes_from_its_cursor(
    tmp_path: Path,
) -> None:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store:
        await add_game(store, "g1", T0)
        clock = ScaledClock(T0, SPEED)
        with receiving(SECRET) as receiver:
            hooks = Webhooks(store)
            webhook = await hooks.add(receiver.url, None, None, SECRET, T0)
            await store.append("g1", plays(1, 20))
            async with dispatching(store, clock, "runner-a") as a:
                await until(lambda: a.held, "runner-a holds it")
                async with dispatching(store, clock, "runner-b") as b:
                    await until(lambda: len(receiver.events("g1")) >= 20, "the first 20")
                    await asyncio.sleep(0.1)  # claim rounds of b: 10 of them
                    assert b.held == frozenset()
                    stored = await hooks.get(webhook.id)
                    assert stored is not None and stored.owner == "runner-a"
                    await a.stop()  # a stops: releases, b takes over at its next round
                    await until(lambda: b.held == {webhook.id}, "runner-b takes it over")
                    await store.append("g1", plays(21, 20))
                    await until(lambda: len(receiver.events("g1")) >= 40, "the next 20")
        assert [e["seq"] for e in receiver.events("g1")] == list(range(1, 41))  # no redelivery


async def test_a_new_webhook_starts_at_the_end_of_the_logs_unless_asked_from_the_start(
    tmp_path: Path,
) -> None:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store:
        await add_game(store, "g1", T0)
        await store.append("g1", plays(1, 5))
        hooks = Webhooks(store)
        with receiving(SECRET) as receiver:
            later = await hooks.add(receiver.url, None, None, SECRET, T0)
            whole = await hooks.add(receiver.url, None, None, SECRET, T0, from_start=True)
            assert await hooks.cursors(later.id) == {"g1": 5}
            assert await hooks.cursors(whole.id) == {}
            async with dispatching(store, ScaledClock(T0, SPEED)):
                await store.append("g1", plays(6, 2))
                await until(lambda: len(receiver.events()) >= 9, "5 + 2 from the start, 2 new")
                await asyncio.sleep(0.05)
            by_hook: dict[str, list[int]] = {}
            for r in receiver.delivered():
                by_hook.setdefault(r.webhook_id, []).extend(e["seq"] for e in r.body["events"])
            assert by_hook == {str(later.id): [6, 7], str(whole.id): [1, 2, 3, 4, 5, 6, 7]}


async def test_a_removed_webhook_stops_being_delivered(tmp_path: Path) -> None:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/p.db") as store:
        await add_game(store, "g1", T0)
        hooks = Webhooks(store)
        with receiving(SECRET) as receiver:
            webhook = await hooks.add(receiver.url, None, None, SECRET, T0)
            async with dispatching(store, ScaledClock(T0, SPEED)) as dispatcher:
                await store.append("g1", plays(1, 3))
                await until(lambda: len(receiver.events()) == 3, "3 events")
                assert await hooks.remove(webhook.id)
                assert not await hooks.remove(webhook.id)
                await store.append("g1", plays(4, 3))
                await until(lambda: not dispatcher.held, "the dispatcher lets it go")
                await asyncio.sleep(0.05)
            assert len(receiver.events()) == 3
        assert await hooks.get(webhook.id) is None and await hooks.attempts(webhook.id) == []
