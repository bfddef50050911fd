"""The web API's edges: REST refusals and paging; the live WebSocket's resume, gaps and refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from pressbox.bus import MemoryBus
from pressbox.clock import ScaledClock
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.store import Store
from pressbox.web import create_app
from pressbox.web.server import running
from stores import add_game, migrated_store

GAME = "401756846"
T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
SEEDED = 6  # events in the log before each test


def play(n: int, text: str | None = None) -> Event:
    data = {"id": f"p{n}", "sequence": n, "period": 1, "clock": "15:00", "text": text or f"#{n}"}
    kind = EventType.PLAY_CORRECTED if text else EventType.PLAY_ADDED
    return Event(kind, f"play:p{n}:{text}", T0 + timedelta(seconds=n), data)


def status(name: str, state: str) -> Event:
    data = {"state": state, "name": name, "phase": "live", "period": 1, "completed": False}
    return Event(EventType.STATUS, f"status:{name}", T0, data)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/pressbox.db") as store:
        await add_game(store, GAME, T0)
        score = Event(EventType.SCORE, "score:1", T0, {"home": 7, "away": 0})
        live = status("STATUS_IN_PROGRESS", "in")
        seeded = [live, play(2), play(1), score, play(3), play(1, "fixed")]
        assert len(await store.append(GAME, seeded)) == SEEDED
        yield store


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def app(store: Store, bus: MemoryBus) -> FastAPI:
    return create_app(store, bus, ScaledClock(T0), heartbeat=60.0)


@pytest.fixture
async def rest(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pressbox.test") as client:
        yield client


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[str]:
    async with running(app, "127.0.0.1", 0) as base:
        yield base.replace("http://", "ws://") + f"/ws/live/{GAME}"


# --- REST ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/games/nope", "/api/games/nope/events"])
async def test_an_unknown_game_is_404_json(rest: httpx.AsyncClient, path: str) -> None:
    response = await rest.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "unknown game 'nope'"}


@pytest.mark.parametrize(
    "params", [{"after": -1}, {"limit": 0}, {"limit": 5001}, {"after": "x"}, {"limit": "many"}]
)
async def test_bad_paging_is_422(rest: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await rest.get(f"/api/games/{GAME}/events", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


async def test_events_page_through_the_log(rest: httpx.AsyncClient) -> None:
    async def page(after: int, limit: int) -> tuple[list[int], int]:
        body = (await rest.get(f"/api/games/{GAME}/events", params=locals())).json()
        return [e["seq"] for e in body["events"]], body["last_seq"]

    assert await page(0, 4) == ([1, 2, 3, 4], SEEDED)
    assert await page(4, 4) == ([5, 6], SEEDED)
    assert await page(SEEDED, 4) == ([], SEEDED)
    assert await page(100, 1) == ([], SEEDED)
    everything = (await rest.get(f"/api/games/{GAME}/events")).json()["events"]
    assert [e["seq"] for e in everything] == list(range(1, SEEDED + 1))
    first = {"seq": 1, "type": "status", "at": "2025-08-23T16:00:00Z"}
    assert everything[0] == {**first, "data": status("STATUS_IN_PROGRESS", "in").data}


async def test_the_snapshot_applies_corrections_in_place_in_log_order(
    rest: httpx.AsyncClient,
) -> None:
    snapshot = (await rest.get(f"/api/games/{GAME}")).json()
    assert snapshot["seq"] == snapshot["game"]["seq"] == SEEDED
    plays = [(p["id"], p["text"]) for p in snapshot["plays"]]
    # Log order is ESPN's game order (its sequence numbers are an edit order); a correction
    # replaces the play where it stands.
    assert plays == [("p2", "#2"), ("p1", "fixed"), ("p3", "#3")]
    assert (snapshot["game"]["home"]["score"], snapshot["game"]["away"]["score"]) == (7, 0)
    assert snapshot["game"]["stream"]["status"] == "Scheduled"


# --- WebSocket -------------------------------------------------------------------------------


async def receive(ws: ClientConnection, kind: str, within: float = 5) -> dict[str, Any]:
    """The next message of type `kind`, skipping status and heartbeat messages."""
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            assert message["v"] == 1
            if message["type"] == kind:
                return message
            assert message["type"] in ("status", "heartbeat"), message


async def quiet(ws: ClientConnection, seconds: float = 0.2) -> None:
    """Nothing but status and heartbeat messages for `seconds`."""
    with pytest.raises(TimeoutError):
        message = await receive(ws, "events", seconds)
        raise AssertionError(f"unexpected events: {message}")


def seqs(message: dict[str, Any]) -> list[int]:
    return [e["seq"] for e in message["events"]]


@pytest.mark.parametrize("after", ["-1", "x", "1.5", ""])
async def test_a_bad_after_query_is_closed_1008(live: str, after: str) -> None:
    async with connect(f"{live}?after={after}") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "after must be a non-negative integer" in closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("not json", "not JSON"),
        ('{"type": "subscribe", "v": 1}', "expected"),
        ('{"type": "resume", "v": 1, "after": -2}', "non-negative"),
        ('{"type": "resume", "v": 1, "after": "3"}', "non-negative"),
        ('{"type": "resume", "v": 1, "after": true}', "non-negative"),
        ("[1, 2]", "expected"),
    ],
)
async def test_a_bad_message_is_refused_and_the_connection_stays(
    live: str, message: str, says: str
) -> None:
    async with connect(live) as ws:
        await receive(ws, "snapshot")
        await ws.send(message)
        error = await receive(ws, "error")
        assert error["code"] == "bad_message" and says in error["message"]
        await ws.send(json.dumps({"type": "resume", "v": 1, "after": 4}))
        assert seqs(await receive(ws, "events")) == [5, 6]


async def test_resume_sends_exactly_the_events_after_it(live: str) -> None:
    async with connect(live) as ws:
        snapshot = await receive(ws, "snapshot")
        assert snapshot["seq"] == SEEDED and len(snapshot["snapshot"]["plays"]) == 3
        await ws.send(json.dumps({"type": "resume", "v": 1, "after": 2}))
        assert seqs(await receive(ws, "events")) == [3, 4, 5, 6]
        await quiet(ws)
        await ws.send(json.dumps({"type": "resume", "v": 1, "after": 0}))
        assert seqs(await receive(ws, "events")) == list(range(1, SEEDED + 1))
        await ws.send(json.dumps({"type": "resume", "v": 1, "after": SEEDED}))
        await quiet(ws)  # nothing missed, nothing sent


async def test_a_resume_past_the_log_gets_a_snapshot(live: str) -> None:
    async with connect(f"{live}?after=999") as ws:
        snapshot = await receive(ws, "snapshot")
        assert snapshot["seq"] == SEEDED


async def test_connecting_with_after_sends_the_missed_events_first(live: str) -> None:
    async with connect(f"{live}?after=3") as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "events" and seqs(first) == [4, 5, 6]


async def publish(store: Store, bus: MemoryBus, batch: list[Event]) -> list[StoredEvent]:
    stored = await store.append(GAME, batch)
    await bus.publish(GAME, stored)
    return stored


async def collect_until(ws: ClientConnection, last: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] < last:
        seen += seqs(await receive(ws, "events"))
    return seen


async def test_published_batches_arrive_in_seq_order(
    live: str, store: Store, bus: MemoryBus
) -> None:
    async with connect(live) as ws:
        await receive(ws, "snapshot")  # sent once subscribed: nothing published now is missed
        for n in range(4, 10, 2):
            await publish(store, bus, [play(n), play(n + 1)])
        assert await collect_until(ws, SEEDED + 6) == list(range(SEEDED + 1, SEEDED + 7))
        await quiet(ws)


async def test_a_gap_in_published_batches_is_filled_from_the_log(
    live: str, store: Store, bus: MemoryBus
) -> None:
    async with connect(live) as ws:
        await receive(ws, "snapshot")
        missed = await store.append(GAME, [play(10), play(11)])  # committed, never published
        await publish(store, bus, [play(12), play(13)])
        assert await collect_until(ws, SEEDED + 4) == list(range(SEEDED + 1, SEEDED + 5))
        await bus.publish(GAME, missed)  # arriving late: already sent, so dropped
        await quiet(ws)
        await publish(store, bus, [play(14)])
        assert seqs(await receive(ws, "events")) == [SEEDED + 5]


async def test_a_message_too_big_is_closed_1009(live: str) -> None:
    async with connect(live) as ws:
        await receive(ws, "snapshot")
        await ws.send(json.dumps({"type": "resume", "v": 1, "after": 0, "pad": "x" * 4096}))
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws, "events")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
