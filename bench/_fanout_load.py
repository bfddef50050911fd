"""The client side of bench/fanout.py: one process holding thousands of viewers, driven by a pipe.

Each viewer checks that the seqs it applies are gap-free and duplicate-free, measures the delivery
latency of every play (`sent_ns` in its data, stamped by the injector before the append) and, in
reconnect mode, comes back after a close with the UI's full-jitter backoff (frontend/src/backoff.ts:
base 0.5 s, cap 15 s, at least 2 s after 1013 or 4429, reset by a snapshot or events) and
`?after=<last seq>`. Every viewer sends a `ping` every 15 s, as the UI does.

Commands (tuples) and replies:
    ("connect", port, [(game, n), ...])   -> ("connected", (ok, failed))
    ("notify", bool)                      -> after that, ("got", (seq, last_ns, median_us)) once
                                             every viewer of the process got a play's seq
    ("measure", bool)                     start (clearing) or stop recording latencies
    ("report",)                           -> ("report", {gaps, duplicates, deliveries, latencies})
    ("slow", port, [(game, n)], rate)     -> ("slowed", n): slow readers, until ("unslow",)
    ("unslow",)                           -> ("unslowed", bytes read)
    ("reconnect", bool)                   viewers come back after a close (default) or not
    ("mark",)                             from now on, note when each viewer is back
    ("verdict", {game: seq})              -> ("verdict", {...}): the restart scenario's outcome
    ("quit",)
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import random
import time
from collections import Counter, defaultdict
from typing import Any

from _wsclient import Client, connect, raise_fd_limit, slow_reader

BACKOFF_BASE = 0.5
BACKOFF_CAP = 15.0
BUSY_FLOOR = 2.0  # the UI's least wait after 1013 or 4429
PING = '{"type":"ping","v":1}'


class Viewer:
    """One browser tab following one game."""

    __slots__ = (
        "attempt",
        "back_ns",
        "client",
        "flaws",
        "game",
        "heard",
        "last",
        "resets",
    )

    def __init__(self, game: str) -> None:
        self.game = game
        self.last = 0
        self.client: Client | None = None
        self.attempt = 0  # the UI's backoff attempt, reset by a snapshot or events
        self.heard = False  # a message arrived on some connection
        self.back_ns = 0  # first message on a connection opened after the mark
        self.resets = 0  # a snapshot where a resume was asked for
        self.flaws = 0  # gaps and duplicates seen

    def delay(self, busy: bool) -> float:
        """The UI's next reconnect delay (Backoff.next, or nextAtLeast(2 s) when busy)."""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2**self.attempt)
        self.attempt += 1
        if busy:
            ceiling = max(2 * BUSY_FLOOR, ceiling)
            return BUSY_FLOOR + random.random() * (ceiling - BUSY_FLOOR)
        return random.random() * ceiling


class LoadProcess:
    """The viewers of one client process and their bookkeeping."""

    def __init__(self, index: int, pipe: Any, source_ip: str) -> None:
        self.index = index
        self.pipe = pipe
        self.source_ip = source_ip
        self.port = 0
        self.viewers: list[Viewer] = []
        self.per_game: dict[str, int] = defaultdict(int)
        self.heard = 0
        self.gaps = 0
        self.duplicates = 0
        self.deliveries = 0
        self.closes: Counter[int] = Counter()
        self.measuring = False
        self.latencies = array.array("q")
        self.notify = False
        self.arrivals: dict[tuple[str, int], list[int]] = {}
        self.reconnect = True
        self.mark_ns = 0
        self.slow_stop = asyncio.Event()
        self.slow_tasks: list[asyncio.Task[int]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.done = asyncio.Event()
        self.all_heard = asyncio.Event()
        self.gate = asyncio.Semaphore(100)

    # ------------------------------------------------------------ receiving

    def on_message(self, client: Client, payload: bytes, now: int) -> None:
        viewer: Viewer = client.tag  # type: ignore[assignment]
        message = json.loads(payload)
        kind = message.get("type")
        if not viewer.heard:
            viewer.heard = True
            self.heard += 1
            if self.heard >= len(self.viewers):
                self.all_heard.set()
        if self.mark_ns and not viewer.back_ns and client.opened_ns > self.mark_ns:
            viewer.back_ns = now
        if kind == "events":
            viewer.attempt = 0
            for event in message["events"]:
                self._apply(viewer, event, now)
        elif kind == "snapshot":
            viewer.attempt = 0
            if viewer.last:
                viewer.resets += 1
            viewer.last = message["seq"]

    def _apply(self, viewer: Viewer, event: dict[str, Any], now: int) -> None:
        seq = event["seq"]
        if seq <= viewer.last:
            self.duplicates += 1
            viewer.flaws += 1
            return
        if seq > viewer.last + 1:
            self.gaps += seq - viewer.last - 1
            viewer.flaws += 1
        viewer.last = seq
        sent = event["data"].get("sent_ns")
        if sent is None:
            return
        if self.measuring:
            self.deliveries += 1
            self.latencies.append((now - sent) // 1000)
        if self.notify:
            times = self.arrivals.setdefault((viewer.game, seq), [])
            times.append(now - sent)
            if len(times) == self.per_game[viewer.game]:
                last = sent + max(times)
                median = sorted(times)[len(times) // 2] // 1000
                self.pipe.send(("got", (seq, last, median)))
                del self.arrivals[(viewer.game, seq)]

    # ------------------------------------------------------------ connecting

    async def open(self, viewer: Viewer, delay: float = 0.0) -> None:
        """Connect (after `delay`), as the UI does: `?after=` once it applied a seq."""
        await asyncio.sleep(delay)
        if self.done.is_set():
            return
        path = f"/ws/live/{viewer.game}"
        if viewer.last:
            path += f"?after={viewer.last}"
        async with self.gate:  # held until the first message: bounds the server's queued work
            try:
                client = await connect(
                    self.port, path, self.on_message, source_ip=self.source_ip, tag=viewer
                )
            except Exception:  # refused, reset, timed out: the UI backs off and retries
                self._closed(viewer, None, 1006)
                return
            viewer.client = client
            client.closed.add_done_callback(lambda f: self._closed(viewer, client, f.result()))
            first = (client.heard, client.closed)
            await asyncio.wait(first, timeout=30, return_when=asyncio.FIRST_COMPLETED)

    def _closed(self, viewer: Viewer, client: Client | None, code: int) -> None:
        if client is not None and viewer.client is not client:
            return
        self.closes[code] += 1
        viewer.client = None
        if self.reconnect and not self.done.is_set():
            self._spawn(self.open(viewer, viewer.delay(code in (1013, 4429))))

    async def connect_all(self, port: int, plan: list[tuple[str, int]]) -> None:
        """Open the viewers of `plan`; reports once each heard its first message (or in 600 s)."""
        self.port = port
        fresh = [Viewer(game) for game, n in plan for _ in range(n)]
        self.viewers += fresh
        self.all_heard.clear()
        for viewer in fresh:
            self.per_game[viewer.game] += 1
            self._spawn(self.open(viewer))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(600):
                await self.all_heard.wait()
        heard = sum(1 for viewer in fresh if viewer.heard)
        self.pipe.send(("connected", (heard, len(fresh) - heard)))

    async def ping(self) -> None:
        """Every 15 s a `ping` from every open viewer (the server closes silent ones)."""
        while True:
            await asyncio.sleep(15)
            for number, viewer in enumerate(self.viewers):
                if viewer.client is not None:
                    viewer.client.send_text(PING)
                if number % 500 == 499:
                    await asyncio.sleep(0)

    # ------------------------------------------------------------ commands

    def verdict(self, seqs: dict[str, int]) -> dict[str, Any]:
        """Who came back after the mark, who resumed with every seq once up to the last one."""
        back = [v for v in self.viewers if v.back_ns]
        in_time = [v for v in back if v.back_ns - self.mark_ns <= 30e9]
        resumed = [
            v for v in back if not v.resets and not v.flaws and v.last == seqs.get(v.game, -1)
        ]
        return {
            "viewers": len(self.viewers),
            "reconnected_30s": len(in_time),
            "resumed_gap_free": len(resumed),
            "reconnect_s": [round((v.back_ns - self.mark_ns) / 1e9, 2) for v in back],
            "gaps": self.gaps,
            "duplicates": self.duplicates,
            "snapshots": sum(v.resets for v in self.viewers),
            "behind": sum(1 for v in self.viewers if v.last < seqs.get(v.game, 0)),
            "closes": dict(self.closes),
        }

    def report(self) -> dict[str, Any]:
        return {
            "gaps": self.gaps,
            "duplicates": self.duplicates,
            "deliveries": self.deliveries,
            "latencies_us": self.latencies.tolist(),
            "closes": dict(self.closes),
        }

    async def slow(self, port: int, plan: list[tuple[str, int]], rate: int) -> None:
        self.slow_stop.clear()
        for game, n in plan:
            for _ in range(n):
                coro = slow_reader(
                    port, f"/ws/live/{game}", rate, self.slow_stop, source_ip=self.source_ip
                )
                self.slow_tasks.append(asyncio.create_task(coro))
        await asyncio.sleep(1)
        self.pipe.send(("slowed", len(self.slow_tasks)))

    async def unslow(self) -> None:
        self.slow_stop.set()
        read = await asyncio.gather(*self.slow_tasks, return_exceptions=True)
        self.slow_tasks.clear()
        self.pipe.send(("unslowed", sum(r for r in read if isinstance(r, int))))

    def command(self, message: tuple[Any, ...]) -> None:
        op, *args = message
        if op == "connect":
            self._spawn(self.connect_all(*args))
        elif op == "notify":
            self.notify = args[0]
        elif op == "measure":
            if args[0]:
                self.latencies = array.array("q")
                self.deliveries = 0
            self.measuring = args[0]
        elif op == "report":
            self.pipe.send(("report", self.report()))
        elif op == "slow":
            self._spawn(self.slow(*args))
        elif op == "unslow":
            self._spawn(self.unslow())
        elif op == "reconnect":
            self.reconnect = args[0]
        elif op == "mark":
            self.mark_ns = time.time_ns()
            for viewer in self.viewers:
                viewer.back_ns = 0
        elif op == "verdict":
            self.pipe.send(("verdict", self.verdict(*args)))
        elif op == "quit":
            self.done.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                message = self.pipe.recv()
            except (EOFError, OSError):
                self.done.set()
                return
            self.command(message)

        loop.add_reader(self.pipe.fileno(), readable)
        self._spawn(self.ping())
        try:
            async with asyncio.timeout(3600):  # a forgotten process ends by itself
                await self.done.wait()
        finally:
            loop.remove_reader(self.pipe.fileno())
            self.slow_stop.set()
            for task in list(self.tasks) + self.slow_tasks:
                task.cancel()
            for viewer in self.viewers:
                if viewer.client is not None:
                    viewer.client.abort()


def load_main(index: int, pipe: Any, source_ip: str) -> None:
    """The entry point of one client process."""
    raise_fd_limit(20_000)
    with contextlib.suppress(TimeoutError, KeyboardInterrupt):
        asyncio.run(LoadProcess(index, pipe, source_ip).run())
