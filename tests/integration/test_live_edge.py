"""Live-edge paging against a fake ESPN collection that grows (httpx.MockTransport): every page
from the last one seen to the new last one, never a skipped page; corrections and removals on
older pages caught by a whole read (reconciliation)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pressbox.domain.documents import DocumentKind
from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.snapshot import GameState
from pressbox.domain.tracker import Tracker
from pressbox.sources.budget import RequestBudget
from pressbox.sources.espn import EDGE_LIMITS, EspnClient
from pressbox.sources.http import HttpClient

PLAYS = "/v2/sports/football/leagues/nfl/events/1/competitions/1/plays"
LIMIT = EDGE_LIMITS[DocumentKind.PLAYS]


class FixedClock:
    def __init__(self) -> None:
        self.moment = datetime(2025, 9, 7, 17, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        return None


def play(
    number: int, text: str | None = None, modified: str = "2025-09-07T17:00Z"
) -> dict[str, Any]:
    return {
        "id": f"p{number}",
        "sequenceNumber": str(number),
        "text": text or f"Play {number}",
        "period": {"number": 1},
        "clock": {"displayValue": "15:00"},
        "homeScore": 0,
        "awayScore": 0,
        "modified": modified,
    }


class GrowingPlays:
    """ESPN's plays collection of one game: any `limit` and `page`, items in game order.
    `on_request` runs before each answer (the game moving on while a client pages)."""

    def __init__(self, count: int) -> None:
        self.items = [play(n) for n in range(1, count + 1)]
        self.requests: list[tuple[int, int]] = []  # (limit, page)
        self.on_request: Callable[[], None] | None = None

    def add(self, n: int) -> None:
        start = len(self.items) + 1
        self.items += [play(k) for k in range(start, start + n)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == PLAYS
        limit = int(request.url.params.get("limit", "25"))
        page = int(request.url.params.get("page", "1"))
        self.requests.append((limit, page))
        if self.on_request is not None:
            self.on_request()
        start = (page - 1) * limit
        body = {
            "count": len(self.items),
            "pageIndex": page,
            "pageSize": limit,
            "pageCount": max(1, math.ceil(len(self.items) / limit)),
            "items": self.items[start : start + limit],
        }
        return httpx.Response(200, content=json.dumps(body).encode())

    def edge_pages(self) -> list[int]:
        return [page for limit, page in self.requests if limit == LIMIT]


@pytest.fixture
async def fake() -> GrowingPlays:
    return GrowingPlays(30)


@pytest.fixture
async def espn(fake: GrowingPlays) -> AsyncIterator[EspnClient]:
    clock = FixedClock()
    http = HttpClient(
        "http://espn.test",
        clock,
        RequestBudget(clock, 1e6, 1000),
        transport=httpx.MockTransport(fake.handle),
    )
    try:
        yield EspnClient(http)
    finally:
        await http.aclose()


def ids(tracker_events: list[Any], kind: EventType) -> list[str]:
    return [e.data["id"] for e in tracker_events if e.type is kind]


async def test_several_new_pages_between_two_reads_are_all_read(
    fake: GrowingPlays, espn: EspnClient
) -> None:
    tracker = Tracker()
    whole = await espn.collection(DocumentKind.PLAYS, PLAYS)
    assert whole.complete and whole.count == 30
    assert len(ids(tracker.apply(whole), EventType.PLAY_ADDED)) == 30

    fake.add(80)  # 110 plays: pages 2..5 at the edge limit
    edge = await espn.edge(DocumentKind.PLAYS, PLAYS, known=30)
    assert fake.edge_pages() == [2, 3, 4, 5]
    assert not edge.complete and edge.count == 110
    added = ids(tracker.apply(edge), EventType.PLAY_ADDED)
    assert added == [f"p{n}" for n in range(31, 111)]

    # Nothing new: one request, for the last page only.
    fake.requests.clear()
    edge = await espn.edge(DocumentKind.PLAYS, PLAYS, known=110)
    assert fake.edge_pages() == [5] and tracker.apply(edge) == []


async def test_pages_appearing_while_the_edge_is_read_are_followed(
    fake: GrowingPlays, espn: EspnClient
) -> None:
    tracker = Tracker()
    tracker.apply(await espn.collection(DocumentKind.PLAYS, PLAYS))
    fake.add(20)  # 50: page 2 is the last one (full) ...
    growth = iter([40, 0, 35])  # ... until pages appear while the edge is read: 90, then 125

    def game_moves_on() -> None:
        fake.add(next(growth, 0))

    fake.on_request = game_moves_on
    edge = await espn.edge(DocumentKind.PLAYS, PLAYS, known=30)
    pages = fake.edge_pages()
    assert pages == list(range(2, pages[-1] + 1))  # consecutive: no page skipped
    assert pages[-1] == math.ceil(125 / LIMIT)  # up to the last page at the last answer
    added = ids(tracker.apply(edge), EventType.PLAY_ADDED)
    assert added == [f"p{n}" for n in range(31, 126)]


async def test_a_correction_on_an_older_page_is_caught_by_reconciliation(
    fake: GrowingPlays, espn: EspnClient
) -> None:
    tracker = Tracker()
    log = tracker.apply(await espn.collection(DocumentKind.PLAYS, PLAYS))
    fake.add(30)
    fake.items[2] = play(3, "Play 3, reviewed: no gain", modified="2025-09-07T17:20Z")
    edge_events = tracker.apply(await espn.edge(DocumentKind.PLAYS, PLAYS, known=30))
    log += edge_events
    assert ids(edge_events, EventType.PLAY_CORRECTED) == []  # page 1 is not at the edge
    del fake.items[5]  # ESPN drops play 6

    reconciled = tracker.apply(await espn.collection(DocumentKind.PLAYS, PLAYS))
    log += reconciled
    assert ids(reconciled, EventType.PLAY_CORRECTED) == ["p3"]
    assert ids(reconciled, EventType.PLAY_REMOVED) == ["p6"]
    corrected = next(e for e in reconciled if e.type is EventType.PLAY_CORRECTED)
    assert corrected.data["previous_text"] == "Play 3"
    assert tracker.apply(await espn.collection(DocumentKind.PLAYS, PLAYS)) == []

    stored = [StoredEvent(seq, e.type, e.key, e.at, e.data) for seq, e in enumerate(log, 1)]
    state = GameState.fold(stored)
    assert "p6" not in state.plays and len(state.plays) == 59
    assert state.plays["p3"]["text"] == "Play 3, reviewed: no gain"

    # A resumed tracker remembers the removal, and a play that comes back is logged again.
    resumed = Tracker()
    resumed.restore(stored)
    assert not resumed.has_play("p6")
    fake.items.insert(5, play(6))
    back = resumed.apply(await espn.collection(DocumentKind.PLAYS, PLAYS))
    assert [(e.type, e.data["id"]) for e in back] == [(EventType.PLAY_ADDED, "p6")]
    assert back[0].key != "play:p6"  # its first play_added's key would be dropped as a duplicate


async def test_a_collection_that_shrank_below_the_edge_is_read_whole(
    fake: GrowingPlays, espn: EspnClient
) -> None:
    tracker = Tracker()
    fake.add(30)  # 60
    tracker.apply(await espn.collection(DocumentKind.PLAYS, PLAYS))
    del fake.items[40:]  # 40 left: page 3 at the edge limit is past the end
    fake.requests.clear()
    document = await espn.edge(DocumentKind.PLAYS, PLAYS, known=60)
    assert document.complete and document.count == 40
    assert fake.requests[-1] == (1000, 1)  # fell back to a whole read
    removed = ids(tracker.apply(document), EventType.PLAY_REMOVED)
    assert removed == [f"p{n}" for n in range(41, 61)]
