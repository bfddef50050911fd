"""The whole recorded game replayed fast: replay server, streamer, SQLite, bus, WebSocket."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.lifecycle import StreamStatus
from pressbox.replay import load_recording
from pressbox.replay.plan import recorded_games
from pressbox.replaying import prepare_streams, replay_upstream, stream_games
from pressbox.runtime import open_runtime
from pressbox.store import Store
from pressbox.web import create_app
from pressbox.web.server import running

GAME = "401756846"
SPEED = 500


async def collect(url: str, into: list[dict[str, Any]], stop: asyncio.Event) -> None:
    """A real WebSocket viewer: records every message until `stop` is set and it goes quiet."""
    async with connect(url) as ws:
        while True:
            try:
                into.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5)))
            except TimeoutError:
                if stop.is_set():
                    return


async def wait_for_seq(store: Store, seq: int) -> None:
    """Poll the log (bounded) until it reaches `seq`."""
    for _ in range(2400):
        if (await store.game(GAME) or {"seq": 0})["seq"] >= seq:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the log never reached seq {seq}")


async def watch_statuses(store: Store, seen: list[str], stop: asyncio.Event) -> None:
    """Record each distinct stream status as it changes (polled every 10 ms, once more at stop)."""
    while True:
        stopping = stop.is_set()
        stream = await store.stream(GAME)
        if stream is not None and (not seen or seen[-1] != stream.status):
            seen.append(str(stream.status))
        if stopping:
            return
        await asyncio.sleep(0.01)


def seqs_of(messages: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for m in messages if m["type"] == "events" for e in m["events"]]


async def test_recorded_game_streams_end_to_end(tmp_path: Path, ncaaf_postman: Path) -> None:
    before = asyncio.all_tasks()
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/pressbox.db")
    recording = load_recording(ncaaf_postman)
    clock = ScaledClock(recording.start, SPEED)
    stop = asyncio.Event()
    early: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    async with (
        replay_upstream(recording, clock) as espn_url,
        open_runtime(settings, clock, espn_url) as runtime,
    ):
        games = recorded_games(recording)
        assert [g.id for g in games] == [GAME]
        await prepare_streams(runtime, games)
        web = create_app(runtime.store, runtime.bus, clock, heartbeat=5.0)
        async with running(web, "127.0.0.1", 0) as base:
            ws_url = base.replace("http", "ws") + f"/ws/live/{GAME}"
            viewer = asyncio.create_task(collect(ws_url, early, stop))
            statuses: list[str] = []
            watcher = asyncio.create_task(watch_statuses(runtime.store, statuses, stop))
            streaming = asyncio.create_task(stream_games(runtime, games))
            # A second viewer joins mid-game and resumes from an old seq.
            await wait_for_seq(runtime.store, 60)
            resumer = asyncio.create_task(collect(f"{ws_url}?after=25", late, stop))
            results = await asyncio.wait_for(streaming, timeout=120)
            assert not [t for t in asyncio.all_tasks() if t.get_name().startswith(f"{GAME}:")]
            stop.set()
            await asyncio.gather(viewer, resumer, watcher)
            async with httpx.AsyncClient(base_url=base) as http:
                snapshot = (await http.get(f"/api/games/{GAME}")).json()
                listed = (await http.get("/api/live/games")).json()["games"]
                all_events = (
                    await http.get(f"/api/games/{GAME}/events", params={"limit": 5000})
                ).json()
        stream = await runtime.store.stream(GAME)
        last_plays = json.loads(
            recording.history(
                f"/v2/sports/football/leagues/college-football/events/{GAME}/competitions/{GAME}/plays"
            )[-1].body
        )

    assert results == {GAME: StreamStatus.COMPLETED}
    # Quarter ends and halftime pause the stream (document workers stop); play resumes it.
    assert statuses[:3] == ["Scheduled", "AwaitingStart", "Active"], statuses
    assert statuses[-1] == "Completed" and statuses.count("Paused") >= 2, statuses
    assert all(
        (a, b) in {("Active", "Paused"), ("Paused", "Active")}
        for a, b in itertools.pairwise(statuses[2:-1])
    ), statuses
    assert stream is not None and stream.status is StreamStatus.COMPLETED
    assert stream.started_at is not None and stream.ended_at is not None
    assert stream.started_at < stream.ended_at

    # The first viewer: a snapshot first, then events with consecutive seqs up to the last one.
    assert early[0]["type"] == "snapshot" and early[0]["v"] == 1
    seqs = seqs_of(early)
    first = early[0]["seq"] + 1
    assert seqs == list(range(first, snapshot["seq"] + 1))
    # The resuming viewer: exactly the events after 25, no snapshot, no gap, no duplicate.
    assert late[0]["type"] == "events"
    assert seqs_of(late) == list(range(26, snapshot["seq"] + 1))

    # Every play of the final plays response is in the log exactly once.
    logged = [e["data"]["id"] for e in all_events["events"] if e["type"] == "play_added"]
    assert sorted(logged) == sorted(p["id"] for p in last_plays["items"])
    assert [e["seq"] for e in all_events["events"]] == list(range(1, snapshot["seq"] + 1))
    assert len(snapshot["plays"]) == 88
    assert len(snapshot["probabilities"]) == 147
    assert snapshot["game"]["status"]["name"] == "STATUS_FINAL"
    assert snapshot["game"]["home"]["name"] == "Kansas State Wildcats"
    assert listed[0]["id"] == GAME and listed[0]["stream"]["status"] == "Completed"

    # Nothing of ours is left running.
    leftover = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leftover, leftover


async def test_unknown_game_is_refused_with_a_close_code(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/pressbox.db")
    clock = ScaledClock(__import__("datetime").datetime.now(__import__("datetime").UTC))
    async with open_runtime(settings, clock) as runtime:
        web = create_app(runtime.store, runtime.bus, clock)
        async with running(web, "127.0.0.1", 0) as base:
            async with connect(base.replace("http", "ws") + "/ws/live/nope") as ws:
                with pytest.raises(Exception) as closed:
                    await asyncio.wait_for(ws.recv(), timeout=5)
            assert closed.value.rcvd.code == 4404
            assert "unknown game" in closed.value.rcvd.reason
