"""The composition root: builds the store, bus and upstream clients from settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx

from pressbox.bus import MemoryBus
from pressbox.clock import Clock
from pressbox.config import Settings
from pressbox.sources.budget import RequestBudget
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import HttpClient
from pressbox.sources.scoreboard import ScoreboardClient
from pressbox.store import Store
from pressbox.store.migrate import upgrade
from pressbox.streaming.streamer import Streamer, StreamLimits


@dataclass
class Runtime:
    """Everything a process shares: one store, one bus, one budgeted client per upstream host."""

    settings: Settings
    clock: Clock
    store: Store
    bus: MemoryBus
    espn: EspnClient
    scoreboards: ScoreboardClient  # ESPN's site API: another host, its own budget

    def streamer(self, game_id: str, league: str) -> Streamer:
        """A streamer for one game of `league`, wired to this runtime."""
        limits = StreamLimits(
            failure_budget=self.settings.failure_budget,
            stall_timeout=timedelta(hours=self.settings.stall_hours),
            max_duration=timedelta(hours=self.settings.max_stream_hours),
        )
        return Streamer(
            game_id,
            self.settings.profile(league),
            self.espn,
            self.store,
            self.bus,
            self.clock,
            limits,
        )


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    clock: Clock,
    espn_url: str | None = None,
    espn_transport: httpx.AsyncBaseTransport | None = None,
    site_url: str | None = None,
    site_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Runtime]:
    """Migrate the database, then open the store and clients; closes them on exit.

    `espn_url` overrides the configured ESPN base URL (a replay server); `espn_transport` wraps
    the ESPN connection (recording captures responses through it). `site_url` overrides ESPN's
    site-API URL (scoreboards); it defaults to `espn_url` when that is given, because the replay
    server answers both APIs.
    """
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
    try:
        yield Runtime(settings, clock, store, MemoryBus(), EspnClient(http), ScoreboardClient(site))
    finally:
        await site.aclose()
        await http.aclose()
        await store.close()
