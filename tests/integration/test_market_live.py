"""The market line for viewers: the live `status` message's `market` (read at channel start,
updated as `market_status` events pass) and the games list's `market` summary, on a real server
on loopback with a real store. The markets and prices here are TEST DATA, not Kalshi's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from pressbox.bus import MemoryBus
from pressbox.clock import ScaledClock
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.domain.market import GameMarkets, Side, point
from pressbox.domain.market_events import (
    MarketState,
    MarketStatus,
    market_event,
    market_status_event,
)
from pressbox.store import Store, TeamInfo
from pressbox.web import create_app
from pressbox.web.limits import LiveSettings
from pressbox.web.server import running
from stores import add_game, migrated_store

GAME, OTHER = "401772994", "401772995"
EVENT = "KXNBAGAME-25MAY31NYKIND"
MARKETS = GameMarkets(EVENT, f"{EVENT}-IND", f"{EVENT}-NYK", "kalshi")
T0 = datetime(2025, 6, 1, 0, 10, tzinfo=UTC)
ABSENT = MarketStatus.of(MarketState.ABSENT, None, f"Kalshi lists no market ({EVENT})")


def play(n: int) -> Event:
    data = {"id": f"p{n}", "sequence": n, "period": 1, "clock": "12:00", "text": "x"}
    return Event(EventType.PLAY_ADDED, f"play:p{n}", T0 + timedelta(seconds=n), data)


def status_event(status: MarketStatus, seconds: int) -> Event:
    return market_status_event(status, T0 + timedelta(seconds=seconds))


def price(bid: str, ask: str, seconds: int, side: Side = Side.HOME) -> Event:
    ticker = MARKETS.home_ticker if side is Side.HOME else MARKETS.away_ticker
    at = T0 + timedelta(seconds=seconds)
    found = point(ticker, side, at, Decimal(bid), Decimal(ask), Decimal(bid), Decimal(10))
    return market_event(found, at)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    home, away = TeamInfo("11", "Indiana Pacers", "IND"), TeamInfo("18", "New York", "NY")
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/pressbox.db") as store:
        for game in (GAME, OTHER):
            await add_game(store, game, T0, sport="basketball", league="nba", home=home, away=away)
        yield store


@pytest.fixture
async def base(store: Store) -> AsyncIterator[str]:
    app = create_app(
        store, MemoryBus(), ScaledClock(T0), 60.0, live_settings=LiveSettings(history_events=3)
    )
    async with running(app, "127.0.0.1", 0) as url:
        yield url


async def next_status(ws: ClientConnection, within: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == "status":
                return message


async def commit(store: Store, bus: MemoryBus, events: list[Event]) -> list[StoredEvent]:
    stored = await store.append(GAME, events)
    await bus.publish(GAME, stored)
    return stored


async def test_the_status_message_says_the_market_state_and_follows_its_changes(
    store: Store,
) -> None:
    bus = MemoryBus()
    app = create_app(store, bus, ScaledClock(T0), 60.0, live_settings=LiveSettings())
    async with running(app, "127.0.0.1", 0) as url:
        ws_url = url.replace("http://", "ws://") + f"/ws/live/{GAME}"
        async with connect(ws_url) as ws:
            first = await next_status(ws)
            assert (first["market"], first["market_detail"]) == ("unknown", None)
            assert first["espn"] == "live"

            # A market_status passing through the channel: a new status at once, no heartbeat.
            await commit(store, bus, [play(1), status_event(ABSENT, 2)])
            absent = await next_status(ws)
            assert (absent["market"], absent["market_detail"]) == ("absent", ABSENT.reason)

            live = MarketStatus.of(MarketState.LIVE, MARKETS)
            await commit(store, bus, [status_event(live, 3), price("0.60", "0.62", 3)])
            now = await next_status(ws)
            assert (now["market"], now["market_detail"]) == ("live", EVENT)
            assert now["stream"] == "Scheduled"


async def test_a_new_channel_reads_the_market_state_older_than_its_window(
    store: Store, base: str
) -> None:
    stale = MarketStatus.of(MarketState.STALE, MARKETS, "Kalshi did not answer")
    await store.append(GAME, [status_event(stale, 1), *(play(n) for n in range(2, 12))])
    async with connect(base.replace("http://", "ws://") + f"/ws/live/{GAME}") as ws:
        status = await next_status(ws)
    assert (status["market"], status["market_detail"]) == ("stale", "Kalshi did not answer")


async def test_the_games_list_carries_each_game_market_line(store: Store, base: str) -> None:
    live = MarketStatus.of(MarketState.LIVE, MARKETS)
    await store.append(GAME, [play(1), status_event(ABSENT, 2)])
    await store.append(GAME, [status_event(live, 3), price("0.60", "0.62", 3)])
    await store.append(GAME, [play(4), price("0.36", "0.40", 5, Side.AWAY), play(6)])

    async with httpx.AsyncClient(base_url=base) as client:
        games = (await client.get("/api/live/games")).json()["games"]
    by_id = {game["id"]: game for game in games}
    assert by_id[OTHER]["market"] is None  # no market event: markets off or not looked for
    assert by_id[GAME]["market"] == {
        "state": "live",
        "reason": None,
        "event_ticker": EVENT,
        "ticker": MARKETS.away_ticker,
        "implied_home": pytest.approx(0.62),  # 1 - the away market's mid
        "last": pytest.approx(0.36),  # that market's own last trade
        "time": "2025-06-01T00:10:05Z",
    }
    # The snapshot's summary says the same.
    async with httpx.AsyncClient(base_url=base) as client:
        snapshot = (await client.get(f"/api/games/{GAME}")).json()
    assert snapshot["game"]["market"] == by_id[GAME]["market"]
