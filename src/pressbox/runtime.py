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
) -> AsyncIterator[Runtime]:
    """Migrate the database, then open the store and clients; closes them on exit.

    `espn_url` overrides the configured ESPN base URL (a replay server); `espn_transport` wraps
    the ESPN connection (recording captures responses through it).
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
    )
    try:
        yield Runtime(settings, clock, store, MemoryBus(), EspnClient(http))
    finally:
        await http.aclose()
        await store.close()
