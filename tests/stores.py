"""Stores for tests: a migrated database, and games with their streams in it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from pressbox.bus import Bus
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.store import GameInfo, Store, TeamInfo
from pressbox.store.migrate import upgrade

KSU = TeamInfo("2306", "Kansas State Wildcats", "KSU")
ISU = TeamInfo("66", "Iowa State Cyclones", "ISU")


@asynccontextmanager
async def migrated_store(url: str) -> AsyncIterator[Store]:
    """A store on `url`, its database migrated first (`upgrade` runs its own event loop, so it
    runs in a thread), closed on exit."""
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    try:
        yield store
    finally:
        await store.close()


async def add_game(
    store: Store,
    game_id: str,
    start: datetime,
    *,
    sport: str = "football",
    league: str = "nfl",
    home: TeamInfo = KSU,
    away: TeamInfo = ISU,
) -> None:
    """A game starting at `start` and its stream, due then (both written at `start`)."""
    await store.upsert_game(GameInfo(game_id, sport, league, "", "", start, home, away), start)
    await store.ensure_stream(game_id, start, start)


def play(n: int, start: datetime, pad: int = 0) -> Event:
    """Play `p{n}` of a test game, `n` seconds after `start`; its text is `pad` bytes."""
    data = {"id": f"p{n}", "sequence": n, "period": 1, "clock": "15:00", "text": "x" * pad}
    return Event(EventType.PLAY_ADDED, f"play:p{n}", start + timedelta(seconds=n), data)


async def publish_plays(
    store: Store, bus: Bus, game_id: str, plays: list[Event]
) -> list[StoredEvent]:
    """Commit `plays`, then publish them as one batch (as a streamer does)."""
    stored = await store.append(game_id, plays)
    await bus.publish(game_id, stored)
    return stored
