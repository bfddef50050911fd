"""The replay server of bench/upstream.py, in a process of its own so that the runner's CPU is
measured alone; also the slate both sides agree on, and the clock they share.

    python bench/_upstream_server.py --games N --stagger MIN --speed S --anchor T --log FILE

Serves the slate (`slate_records`) on an `AnchoredClock` started at the parent's monotonic time
`T` (Linux's monotonic clock is system-wide, so both processes read the same replay time without
a handshake), prints `{"url": ...}` once it listens, and at the end of its input writes every
request it got (replay seconds since the origin, path, status, body bytes), its own CPU seconds
and its event loop's lag to the log file as JSON, then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pressbox.replay.games import slate
from pressbox.replay.loaders import load_game_record
from pressbox.replay.record import GameRecord
from pressbox.replay.server import STATUS_PATH, create_replay_app
from pressbox.web.server import running

RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared" / "recordings"
#: The football recordings a slate is made of, in turn: NFL site summary, NCAAF core-API
#: document set, NFL CDN game package.
SOURCES = [
    RECORDINGS / "games" / "nfl-401547417" / "summary.json",
    RECORDINGS / "espn-docs" / "EspnFootballNcaa",
    RECORDINGS / "games" / "nfl-401547602" / "game_gamepackage.json",
]
#: Streams are due this long before their game's start (PRESSBOX_SCHEDULE_LEAD_MINUTES's
#: default); the replay clock starts this long before the first start.
LEAD = timedelta(minutes=10)

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]


def slate_records(count: int, stagger: timedelta) -> list[GameRecord]:
    """`count` football games taking the recordings in turn, game i starting `i * stagger` after
    the first (each recording's copies `len(SOURCES) * stagger` apart), ordered by start."""
    bases = [load_game_record(path) for path in SOURCES]
    first = bases[0].start_time
    records: list[GameRecord] = []
    for index, base in enumerate(bases):
        copies = len(range(index, count, len(bases)))
        if copies:
            records += slate(base, copies, stagger * len(bases), first + index * stagger)
    return sorted(records, key=lambda r: (r.start_time, r.id))


def origin_of(records: list[GameRecord]) -> datetime:
    """Where the replay clock starts: `LEAD` before the first game."""
    return min(r.start_time for r in records) - LEAD


class AnchoredClock:
    """Replay time from `origin`, `speed` times faster than real time since the monotonic
    instant `anchor`: the same replay time in every process given the same three numbers."""

    def __init__(self, origin: datetime, speed: float, anchor: float) -> None:
        self.origin = origin.astimezone(UTC)
        self.speed = float(speed)
        self.anchor = anchor

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=self.elapsed())

    def elapsed(self) -> float:
        """Replay seconds since the origin."""
        return (time.monotonic() - self.anchor) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class LoopLag:
    """How late the event loop wakes a 50 ms sleep, in replay seconds: a replay that lags."""

    def __init__(self, speed: float, every: float = 0.05) -> None:
        self.speed = speed
        self.every = every
        self.samples: list[float] = []

    async def run(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(self.every)
            self.samples.append(max(0.0, time.monotonic() - began - self.every) * self.speed)


class RequestRecorder:
    """ASGI middleware: every request with its replay time, status and body bytes."""

    def __init__(self, app: Any, clock: AnchoredClock) -> None:
        self.app = app
        self.clock = clock
        self.entries: list[tuple[float, str, int, int]] = []

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == STATUS_PATH:
            await self.app(scope, receive, send)
            return
        arrived, status, size = self.clock.elapsed(), 0, 0

        async def counting(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)
        self.entries.append((round(arrived, 3), scope["path"], status, size))


async def serve(args: argparse.Namespace) -> None:
    records = slate_records(args.games, timedelta(minutes=args.stagger))
    clock = AnchoredClock(origin_of(records), args.speed, args.anchor)
    recorder = RequestRecorder(create_replay_app(None, clock, records), clock)
    lag = LoopLag(args.speed)
    probe = asyncio.create_task(lag.run())
    async with running(recorder, "127.0.0.1", 0, date_header=False) as url:
        print(json.dumps({"url": url}), flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the parent closes our input
    probe.cancel()
    report = {
        "requests": recorder.entries,
        "cpu_seconds": time.process_time(),
        "loop_lag": lag.samples,
    }
    await asyncio.to_thread(Path(args.log).write_text, json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--stagger", type=float, required=True, help="minutes between starts")
    parser.add_argument("--speed", type=float, required=True)
    parser.add_argument("--anchor", type=float, required=True, help="time.monotonic() at t0")
    parser.add_argument("--log", required=True, help="file for the request log, at exit")
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(serve(parser.parse_args()))
