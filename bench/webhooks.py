"""How many events per second one webhook dispatcher delivers to a local receiver.

A SQLite database holds `--games` games of `--events` events each (play_added events shaped as
the streamer writes them, with ~200 bytes of text); one subscription starts at the beginning of
every log (`from_start`), and one `WebhookDispatcher` catches the whole backlog up against a
receiver in a process of its own on 127.0.0.1 (a threaded `http.server` that reads each body,
parses it, counts its events and answers 200). Figures per batch size:

- dispatcher: events/s from the first claim until the receiver holds every event (median of
  `--runs`; each run on a fresh copy of the database);
- baseline: the same receiver fed the same bodies (pre-encoded, the same batch sizes) by one
  httpx client POSTing them back to back — the transport's ceiling, measured in the same run;
- ratio: dispatcher / baseline: what reading the log, signing, and moving the cursor cost.

    .venv/bin/python bench/webhooks.py [--games 20] [--events 500] [--batches 25,100] [--runs 3]

Each run's line is printed as it finishes, then a table and one JSON line (`{"bench": "webhooks"}`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from pressbox.clock import SystemClock
from pressbox.config import Settings
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.domain.webhooks import Delivery, sign
from pressbox.store import GameInfo, Store, TeamInfo
from pressbox.store.migrate import upgrade
from pressbox.store.webhooks import Webhooks
from pressbox.streaming.webhooks import WebhookDispatcher

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
SECRET = "whsec_bench-0123456789abcdef"
TEXT = "Jalen Brunson makes 26-foot three point jumper (Josh Hart assists) " * 3


def receive(port: Any, counted: Any) -> None:
    """The receiver process: count the events of every POST; its port goes to `port`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with counted.get_lock():
                counted.value += len(body["events"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    server.serve_forever()


def event(game: int, n: int) -> Event:
    data = {"id": f"{game}-{n}", "sequence": n, "period": 1 + n // 130, "clock": "7:41"}
    data.update(text=TEXT, home_score=n // 2, away_score=n // 3, team="18")
    return Event(EventType.PLAY_ADDED, f"play:{n}", T0 + timedelta(seconds=n), data)


def stored(seq: int, e: Event) -> StoredEvent:
    return StoredEvent(seq, e.type, e.key, e.at, e.data)


async def seed(url: str, games: int, events: int) -> None:
    store = Store.connect(url)
    try:
        for g in range(games):
            info = GameInfo(f"g{g}", "basketball", "nba", "", "", T0, TeamInfo("1"), TeamInfo("2"))
            await store.upsert_game(info, T0)
            for first in range(0, events, 500):
                await store.append(
                    info.id, [event(g, n) for n in range(first, min(events, first + 500))]
                )
    finally:
        await store.close()


async def dispatch(url: str, receiver: str, batch: int, total: int, counted: Any) -> float:
    """Seconds one dispatcher takes to deliver the whole backlog."""
    settings = Settings(
        webhook_batch_events=batch, webhook_poll_seconds=0.05, runner_poll_seconds=0.05
    )
    store = Store.connect(url)
    try:
        await Webhooks(store).add(receiver, None, None, SECRET, T0, from_start=True)
        start = counted.value
        async with WebhookDispatcher(store, SystemClock(), settings, "bench") as dispatcher:
            began = time.perf_counter()
            task = asyncio.create_task(dispatcher.run_forever())
            deadline = began + 600
            # The count lives in another process: nothing to await but time.
            while counted.value - start < total and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            took = time.perf_counter() - began
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if counted.value - start < total:
            raise SystemExit(f"only {counted.value - start} of {total} events arrived in 600 s")
        return took
    finally:
        await store.close()


async def bare(receiver: str, bodies: list[bytes], total: int, counted: Any) -> float:
    """Seconds one httpx client takes to POST the pre-encoded bodies back to back."""
    start = counted.value
    async with httpx.AsyncClient(timeout=10) as client:
        began = time.perf_counter()
        for body in bodies:
            headers = {"Content-Type": "application/json"}
            headers["Pressbox-Signature"] = sign(SECRET, int(time.time()), body)
            (await client.post(receiver, content=body, headers=headers)).raise_for_status()
        took = time.perf_counter() - began
    assert counted.value - start == total
    return took


def bodies(games: int, events: int, batch: int) -> list[bytes]:
    """The bodies the dispatcher sends for the seeded logs, encoded ahead."""
    out = []
    for g in range(games):
        log = [stored(n + 1, event(g, n)) for n in range(events)]
        for i in range(0, events, batch):
            part = tuple(log[i : i + batch])
            out.append(Delivery(1, f"g{g}", "nba", i, part[-1].seq, part).body())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=20, help="games in the database")
    parser.add_argument("--events", type=int, default=500, help="events per game")
    parser.add_argument(
        "--batches", default="25,100", help="batch sizes to measure, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is kept)")
    args = parser.parse_args()
    if not (1 <= args.games <= 200 and 1 <= args.events <= 10_000 and 1 <= args.runs <= 9):
        parser.error("--games 1..200, --events 1..10000, --runs 1..9")
    sizes = [int(size) for size in args.batches.split(",")]
    total = args.games * args.events
    err = Console(stderr=True)
    port = multiprocessing.Value("i", 0)
    counted = multiprocessing.Value("q", 0)
    server = multiprocessing.Process(target=receive, args=(port, counted), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.01)
    receiver = f"http://127.0.0.1:{port.value}/hook"
    work = Path(tempfile.mkdtemp(prefix="pressbox-bench-webhooks-"))
    results: dict[int, dict[str, float]] = {}
    try:
        template = work / "template.db"
        upgrade(f"sqlite+aiosqlite:///{template}")
        asyncio.run(seed(f"sqlite+aiosqlite:///{template}", args.games, args.events))
        err.print(f"{total} events in {args.games} games; receiver on {receiver}")
        for size in sizes:
            mine, theirs = [], []
            prepared = bodies(args.games, args.events, size)
            for run in range(args.runs):
                db = work / f"run-{size}-{run}.db"
                shutil.copy(template, db)
                took = asyncio.run(
                    dispatch(f"sqlite+aiosqlite:///{db}", receiver, size, total, counted)
                )
                mine.append(total / took)
                theirs.append(total / asyncio.run(bare(receiver, prepared, total, counted)))
                print(
                    f"batch {size} run {run + 1}: dispatcher {mine[-1]:,.0f} events/s, "
                    f"bare POSTs {theirs[-1]:,.0f} events/s",
                    flush=True,
                )
            results[size] = {
                "dispatcher": statistics.median(mine),
                "baseline": statistics.median(theirs),
            }
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
    table = Table(title=f"one dispatcher, {total} events (medians of {args.runs})")
    for column in ("batch", "dispatcher events/s", "bare POSTs events/s", "ratio"):
        table.add_column(column, justify="right")
    for size, r in results.items():
        ratio = r["dispatcher"] / r["baseline"]
        table.add_row(str(size), f"{r['dispatcher']:,.0f}", f"{r['baseline']:,.0f}", f"{ratio:.2f}")
    Console().print(table)
    print(json.dumps({"bench": "webhooks", "events": total, "results": results}))


if __name__ == "__main__":
    sys.exit(main())
