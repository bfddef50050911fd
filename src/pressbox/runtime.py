"""The composition root: builds the store, bus and upstream clients from settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx

from pressbox.bus import Bus, open_bus
from pressbox.clock import Clock
from pressbox.config import Settings
from pressbox.domain.fetch_policy import policy_for
from pressbox.sources.budget import RequestBudget
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import HttpClient
from pressbox.sources.kalshi import KalshiClient, kalshi_http
from pressbox.sources.kalshi_auth import WS_PATH, configured_signer
from pressbox.sources.scoreboard import ScoreboardClient
from pressbox.store import Store
from pressbox.store.migrate import upgrade
from pressbox.streaming.market import KalshiMarkets, MarketSource
from pressbox.streaming.sentinel import LeagueBoard
from pressbox.streaming.streamer import Streamer, StreamLimits


@dataclass
class Runtime:
    """Everything a process shares: one store, one bus, one budgeted client per upstream host."""

    settings: Settings
    clock: Clock
    store: Store
    bus: Bus
    espn: EspnClient
    scoreboards: ScoreboardClient  # ESPN's site API: another host, its own budget
    #: Every game's market line (Kalshi: another host, its own budget); None with markets off.
    markets: MarketSource | None = None
    #: The league scoreboards as every game's change sentinel (the edge fetch policy).
    board: LeagueBoard | None = None

    def streamer(self, game_id: str, league: str, owner: str | None = None) -> Streamer:
        """A streamer for one game of `league`, wired to this runtime; `owner` is the lease
        holder it runs for (its lifecycle writes then require that lease)."""
        limits = StreamLimits(
            stall_timeout=timedelta(hours=self.settings.stall_hours),
            max_duration=timedelta(hours=self.settings.max_stream_hours),
            retry_cap=self.settings.retry_cap_seconds,
        )
        return Streamer(
            game_id,
            self.settings.profile(league),
            self.espn,
            self.store,
            self.bus,
            self.clock,
            limits,
            owner,
            markets=self.markets,
            policy=policy_for(
                self.settings.fetch_policy,
                self.settings.profile(league),
                timedelta(minutes=self.settings.reconcile_minutes),
            ),
            board=self.board,
        )


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    clock: Clock,
    espn_url: str | None = None,
    espn_transport: httpx.AsyncBaseTransport | None = None,
    site_url: str | None = None,
    site_transport: httpx.AsyncBaseTransport | None = None,
    kalshi_url: str | None = None,
) -> AsyncIterator[Runtime]:
    """Migrate the database, then open the store, the bus and clients; closes them on exit.

    `espn_url` overrides the configured ESPN base URL (a replay server); `espn_transport` wraps
    the ESPN connection (recording captures responses through it). `site_url` overrides ESPN's
    site-API URL (scoreboards); it defaults to `espn_url` when that is given, because the replay
    server answers both APIs. `kalshi_url` overrides Kalshi's REST base URL (a fake Kalshi, which
    then serves the WebSocket too: its URL follows). With `PRESSBOX_MARKETS=off` no Kalshi client
    is built and streamers follow no market.
    """
    markets_on = settings.markets == "on"
    # Read the key first: a bad key file fails here, before anything needs closing.
    signer = (
        configured_signer(settings.kalshi_key_id, settings.kalshi_private_key_path)
        if markets_on
        else None
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    store = Store.connect(settings.database_url)
    budget = RequestBudget(clock, settings.espn_rate, settings.espn_burst)
    http = HttpClient(
        espn_url or str(settings.espn_core_url),
        clock,
        budget,
        timeout=settings.http_timeout,
        transport=espn_transport,
        block=timedelta(minutes=settings.espn_block_minutes),
    )
    site_budget = RequestBudget(clock, settings.espn_rate, settings.espn_burst)
    site = HttpClient(
        site_url or espn_url or str(settings.espn_site_url),
        clock,
        site_budget,
        timeout=settings.http_timeout,
        transport=site_transport,
        block=timedelta(minutes=settings.espn_block_minutes),
    )
    kalshi: HttpClient | None = None
    markets: KalshiMarkets | None = None
    if markets_on:
        kalshi = kalshi_http(
            kalshi_url or str(settings.kalshi_url),
            clock,
            rate=settings.kalshi_rate,
            timeout=settings.http_timeout,
        )
        markets = KalshiMarkets(
            KalshiClient(kalshi),
            settings,
            clock,
            ws_url=websocket_url(kalshi_url) if kalshi_url else None,
            signer=signer,
        )
    bus = open_bus(settings.bus_url)
    try:
        espn = EspnClient(http)
        scoreboards = ScoreboardClient(site)
        yield Runtime(
            settings, clock, store, bus, espn, scoreboards, markets, LeagueBoard(scoreboards)
        )
    finally:
        await bus.aclose()
        if kalshi is not None:
            await kalshi.aclose()
        await site.aclose()
        await http.aclose()
        await store.close()


def websocket_url(rest_url: str) -> str:
    """Kalshi's WebSocket URL beside a REST base URL (`http://h/trade-api/v2` ->
    `ws://h/trade-api/ws/v2`)."""
    base = rest_url.rstrip("/").removesuffix("/trade-api/v2")
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{WS_PATH}"
