"""The server side of bench/fanout.py: a Pressbox web server (or the seed's naive one) plus an
event injector that appends to the store and publishes on the bus exactly as a streamer does.

    python bench/_fanout_server.py --mode pressbox|naive --port P --db FILE [--games G] [--init]
        [--live '{"max_connections_per_ip": 100000}']

Driven through stdin and stdout, one JSON object per line:

- out `{"ready": PID}` once it serves;
- in `{"op": "burst", "game": ID}`: append one play to the game and publish it; out
  `{"op": "burst", "seq": N, "sent_ns": T, "published_ns": T}`;
- in `{"op": "steady", "games": G, "rate": R, "seconds": S}`: every game gets R plays a second
  (staggered) for S seconds; out `{"op": "steady", "events": N, "lag_ms": L}` (L: how far the
  injector fell behind its schedule at worst);
- in `{"op": "seqs"}`: out `{"op": "seqs", "seqs": {ID: last seq}}`;
- in `{"op": "quit"}` (or end of input): exit.

Every play carries `sent_ns` (time.time_ns() before the append) in its data, so clients measure
delivery latency including the commit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _wsclient import raise_fd_limit
from pressbox.bus import MemoryBus
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.store import GameInfo, Store, TeamInfo
from pressbox.store.migrate import upgrade
from pressbox.web import create_app
from pressbox.web.server import running
from pressbox.web.snapshots import game_snapshot

TEXT = (
    "(Shotgun) J.Smith pass short right to K.Jones to the KSU 31 for 9 yards "
    "(T.Brown; R.Davis). Penalty on KSU, holding, declined."
)


def game_id(index: int) -> str:
    return f"bench{index}"


async def create_games(store: Store, count: int) -> None:
    now = datetime.now(UTC)
    for index in range(count):
        info = GameInfo(
            id=game_id(index),
            sport="football",
            league="college-football",
            name=f"Away {index} at Home {index}",
            short_name=f"A{index} VS H{index}",
            start_time=now,
            home=TeamInfo("1", f"Home {index}", "HOM"),
            away=TeamInfo("2", f"Away {index}", "AWY"),
        )
        await store.upsert_game(info, now)


class Injector:
    """Appends plays through the store and publishes what was committed, as a streamer does."""

    def __init__(self, store: Store, bus: MemoryBus) -> None:
        self.store = store
        self.bus = bus
        self.plays = 0

    async def play(self, game: str) -> tuple[list[StoredEvent], int, int]:
        self.plays += 1
        sent = time.time_ns()
        data = {
            "id": uuid.uuid4().hex,
            "sequence": self.plays,
            "period": 2,
            "clock": "12:01",
            "text": TEXT,
            "short_text": "J.Smith pass to K.Jones for 9 yds",
            "type": "Pass Reception",
            "scoring": False,
            "score_value": 0,
            "home_score": 7,
            "away_score": 3,
            "team_id": "1",
            "drive_id": "42",
            "wallclock": None,
            "modified": None,
            "sent_ns": sent,
        }
        event = Event(EventType.PLAY_ADDED, data["id"], datetime.now(UTC), data)
        stored = await self.store.append(game, [event])
        published = time.time_ns()
        await self.bus.publish(game, stored)
        return stored, sent, published

    async def steady(self, games: int, rate: float, seconds: float) -> dict[str, Any]:
        """`rate` plays a second per game, staggered evenly, for `seconds`; never bursts to catch up
        more than the schedule asks (a late tick is sent late, not skipped)."""
        step = 1.0 / (rate * games)
        total = int(seconds * rate * games)
        start = time.monotonic()
        worst = 0.0
        for tick in range(total):
            due = start + tick * step
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                worst = max(worst, -delay)
            await self.play(game_id(tick % games))
        return {"op": "steady", "events": total, "lag_ms": round(worst * 1000, 1)}


def naive_app(store: Store, bus: MemoryBus, games: int) -> FastAPI:
    """The seed's live endpoint: one list of sockets per game and, per published batch,
    `for ws in clients: await ws.send_json(msg)` under one asyncio lock."""
    app = FastAPI()
    clients: dict[str, list[WebSocket]] = {game_id(i): [] for i in range(games)}
    lock = asyncio.Lock()

    async def forward(game: str) -> None:
        async with bus.subscribe(game) as subscription:
            while True:
                batch = await subscription.get()
                message = {"type": "events", "v": 1, "events": [e.to_json() for e in batch]}
                async with lock:
                    for ws in list(clients[game]):
                        try:
                            await ws.send_json(message)
                        except Exception:
                            with contextlib.suppress(ValueError):
                                clients[game].remove(ws)

    @app.websocket("/ws/live/{game}")
    async def live(ws: WebSocket, game: str) -> None:
        await ws.accept()
        if game not in clients:
            await ws.close(4404)
            return
        after = ws.query_params.get("after")
        if after is None:
            snapshot = await game_snapshot(store, game)
            seq = snapshot["seq"] if snapshot else 0
            await ws.send_json({"type": "snapshot", "v": 1, "seq": seq, "snapshot": snapshot})
        else:
            missed = await store.events_since(game, int(after))
            if missed:
                await ws.send_json(
                    {"type": "events", "v": 1, "events": [e.to_json() for e in missed]}
                )
        clients[game].append(ws)
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            with contextlib.suppress(ValueError):
                clients[game].remove(ws)

    app.state.forwarders = [forward(game_id(i)) for i in range(games)]
    return app


def live_options(given: str) -> dict[str, Any]:
    """`create_app` options with the live limits in `given` (JSON) over Pressbox's defaults."""
    limits = json.loads(given or "{}")
    if not limits:
        return {}
    from pressbox.web.limits import LiveSettings

    return {"live_settings": dataclasses.replace(LiveSettings(), **limits)}


async def serve(args: argparse.Namespace) -> None:
    raise_fd_limit(60_000)
    url = f"sqlite+aiosqlite:///{args.db}"
    if args.init:
        await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    if args.init:
        await create_games(store, args.games)
    bus = MemoryBus()
    injector = Injector(store, bus)
    if args.mode == "naive":
        app = naive_app(store, bus, args.games)
        forwarders = [asyncio.create_task(f) for f in app.state.forwarders]
    else:
        app = create_app(store, bus, **live_options(args.live))
        forwarders = []
    async with running(app, "127.0.0.1", args.port):
        print(json.dumps({"ready": os.getpid()}), flush=True)
        await control(injector, args.games)
    for task in forwarders:
        task.cancel()
    await store.close()


async def control(injector: Injector, games: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    steady: asyncio.Task[None] | None = None
    while line := await reader.readline():
        command = json.loads(line)
        op = command["op"]
        if op == "quit":
            break
        if op == "burst":
            stored, sent, published = await injector.play(command["game"])
            reply = {"op": "burst", "seq": stored[-1].seq, "sent_ns": sent}
            reply["published_ns"] = published
            _reply(reply)
        elif op == "steady":
            steady = asyncio.create_task(_steady(injector, command))
        elif op == "seqs":
            seqs = {}
            for index in range(games):
                summary = await injector.store.game(game_id(index))
                seqs[game_id(index)] = summary["seq"] if summary else 0
            _reply({"op": "seqs", "seqs": seqs})
    if steady is not None:
        steady.cancel()


async def _steady(injector: Injector, command: dict[str, Any]) -> None:
    _reply(await injector.steady(command["games"], command["rate"], command["seconds"]))


def _reply(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["pressbox", "naive"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--games", type=int, default=50)
    parser.add_argument("--init", action="store_true")
    parser.add_argument("--live", default="", help="LiveSettings fields to override, as JSON")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # EMFILE on accept: once a second
    arguments = parser.parse_args()
    asyncio.run(serve(arguments))
    os._exit(0)  # skip closing thousands of sockets one by one
