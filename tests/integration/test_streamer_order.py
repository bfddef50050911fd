"""The streamer's log keeps the tracker's order when the board path and a plays read apply and
commit at the same time: a play's `before` never names a play whose event is not in the log yet.

Seen in a replay of Knicks at Pacers: the board's preview of a play was applied while a plays
read's commit was already scheduled; the plays read applied (naming the preview as the play its
predecessor comes before) and committed first, so the predecessor and the preview both went to
the end of the game order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from boards import COMPETITION, board, items_of
from pressbox.bus import MemoryBus
from pressbox.clock import ScaledClock
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import Event, EventType
from pressbox.domain.snapshot import GameState
from pressbox.domain.sports import SEED_FOOTBALL_CADENCES, SportProfile
from pressbox.replay import load_recording
from pressbox.sources.budget import RequestBudget
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import HttpClient
from pressbox.store import GameInfo, Store, TeamInfo
from pressbox.store.migrate import upgrade
from pressbox.streaming.streamer import Streamer

GAME = "401756846"
PROFILE = SportProfile("football", "college-football", cadences=dict(SEED_FOOTBALL_CADENCES))


@pytest.fixture(scope="module")
def plays(ncaaf_postman: Path) -> Document:
    """The last recorded plays document (88 plays, to the end of the first half)."""
    response = load_recording(ncaaf_postman).history(f"{COMPETITION}/plays")[-1]
    return Document.parse(DocumentKind.PLAYS, response.body, response.recorded_at)


@pytest.fixture
async def streamer(tmp_path: Path, plays: Document) -> AsyncIterator[Streamer]:
    """A streamer on a migrated store; nothing is fetched (its upstream refuses everything)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    clock = ScaledClock(plays.fetched_at, speed=1)
    transport = httpx.MockTransport(lambda request: httpx.Response(599))
    budget = RequestBudget(clock, rate=1e6, burst=1000)
    http = HttpClient("http://espn.test", clock, budget, transport=transport)
    now = clock.now()
    blank = GameInfo(GAME, "football", "college-football", "", "", None, TeamInfo(""), TeamInfo(""))
    await store.upsert_game(blank, now)
    await store.ensure_stream(GAME, now, now)
    try:
        yield Streamer(GAME, PROFILE, EspnClient(http), store, MemoryBus(), clock)
    finally:
        await http.aclose()
        await store.close()


@pytest.mark.parametrize("scheduled_first", ["plays read", "board"])
async def test_a_board_and_a_plays_read_at_once_keep_the_game_order(
    streamer: Streamer, plays: Document, scheduled_first: str
) -> None:
    await streamer._track(items_of(plays, 40))
    # The board shows play 41 (it skipped 40) while a read of plays up to 42 is under way:
    # one is scheduled on the loop, the other runs at once, and each commits what it applied.
    shown = board(plays.items[41])
    paths: dict[str, Callable[[], Awaitable[list[Event]]]] = {
        "plays read": lambda: streamer._track(items_of(plays, 43)),
        "board": lambda: streamer._track_board(shown, plays.fetched_at, situation=True),
    }
    later = next(path for path in paths if path != scheduled_first)
    scheduled = asyncio.ensure_future(paths[scheduled_first]())
    await paths[later]()
    await scheduled

    log = await streamer.store.events_since(GAME, 0)
    added = [e.data["id"] for e in log if e.type is EventType.PLAY_ADDED]
    assert sorted(added) == sorted(p["id"] for p in plays.items[:43])
    ordered = [p["id"] for p in GameState.fold(log).ordered_plays()]
    assert ordered == [p["id"] for p in plays.items[:43]]
