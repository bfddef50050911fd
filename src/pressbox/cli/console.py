"""The replay's console: one live Rich status of every replayed game (score, clock, stream state)
and the upstream request rate, redrawn in place on a terminal, with the log's warnings above it.

On a terminal it is a `rich.live.Live` display on stderr; the log handlers write through it while
it runs (`logs_through_live`), so a warning scrolls above the status instead of tearing it. Not on a
terminal (CI, a pipe) it shows nothing: the log and the final lines say what happened.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pressbox.replay.plan import RecordedGame
from pressbox.runtime import Runtime


def score_text(game: dict[str, Any]) -> str:
    """ "ISU 24 – 21 KSU" (away first, as ESPN writes it), or "" before the game has teams."""
    away, home = game.get("away") or {}, game.get("home") or {}
    if not (away.get("abbreviation") or home.get("abbreviation")):
        return ""
    return (
        f"{away.get('abbreviation', '')} {away.get('score') or 0} – "
        f"{home.get('score') or 0} {home.get('abbreviation', '')}"
    )


def game_row(game_id: str, game: dict[str, Any] | None) -> tuple[str, str, str, str]:
    """One game's (name, score, clock, stream state) as the status shows them."""
    if game is None:
        return (f"game {game_id}", "", "", "…")
    status = game.get("status") or {}
    stream = game.get("stream") or {}
    state = str(stream.get("status") or "…")
    if stream.get("degraded"):
        state += f" (ESPN degraded: {', '.join(stream['degraded'])})"
    name = game.get("short_name") or game.get("name") or f"game {game_id}"
    return (name, score_text(game), str(status.get("short_detail") or ""), state)


def status_table(
    rows: Sequence[tuple[str, str, str, str]], caption: str, title: str | None = None
) -> Table:
    table = Table(title=title, caption=caption, expand=False, title_justify="left")
    for column in ("game", "score", "clock", "stream"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


class RequestRate:
    """Upstream requests per second of the real clock, between two readings."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._last: tuple[float, int] | None = None

    def total(self) -> int:
        return sum(s.requests for s in self.runtime.espn.http.stats.by_kind.values())

    def read(self) -> float:
        now, total = asyncio.get_running_loop().time(), self.total()
        last, self._last = self._last, (now, total)
        if last is None or now <= last[0]:
            return 0.0
        return (total - last[1]) / (now - last[0])


@contextmanager
def logs_through_live() -> Iterator[None]:
    """Inside a running Live display (which has put its proxy in `sys.stderr`), send the root
    logger's stderr lines through the proxy (above the display); restore the streams after."""
    moved: list[tuple[logging.StreamHandler[Any], Any]] = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
            moved.append((handler, handler.setStream(sys.stderr)))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


class ReplayStatus:
    """The live status of a replay; `run()` redraws it every `every` real seconds until
    cancelled. `url` is shown as its title (the page to open); `end` adds a bar of replay time."""

    def __init__(
        self,
        runtime: Runtime,
        games: Sequence[RecordedGame],
        console: Console,
        *,
        url: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        every: float = 0.5,
    ) -> None:
        self.runtime = runtime
        self.games = list(games)
        self.console = console
        self.url = url
        self.every = every
        self.rate = RequestRate(runtime)
        self.progress: Progress | None = None
        self._task: Any = None
        self._start = start
        if start is not None and end is not None:
            self.progress = Progress(
                TextColumn("replay"),
                BarColumn(),
                TextColumn("{task.fields[at]}"),
                TimeRemainingColumn(),
                console=console,
            )
            self._task = self.progress.add_task(
                "replay", total=max(1.0, (end - start).total_seconds()), at=""
            )

    @property
    def enabled(self) -> bool:
        return self.console.is_terminal

    async def render(self) -> RenderableType:
        rows = [game_row(g.id, await self.runtime.store.game(g.id)) for g in self.games]
        clock = self.runtime.clock
        speed = getattr(clock, "speed", 1.0)
        caption = (
            f"replay clock {clock.now():%H:%M:%S}Z at {speed:g}x · "
            f"{self.rate.read():.1f} upstream requests/s · Ctrl-C stops"
        )
        title = f"Pressbox: open {self.url}" if self.url else None
        table = status_table(rows, caption, title)
        if self.progress is None or self._start is None:
            return table
        now = clock.now()
        elapsed = (now - self._start).total_seconds()
        self.progress.update(self._task, completed=elapsed, at=f"{now:%H:%M:%S}Z")
        return Group(table, self.progress)

    async def run(self) -> None:
        """Redraw until cancelled (nothing at all when stderr is not a terminal)."""
        if not self.enabled:
            await asyncio.Event().wait()
            return
        with (
            Live(await self.render(), console=self.console, auto_refresh=False) as live,
            logs_through_live(),
        ):
            while True:
                await asyncio.sleep(self.every)
                live.update(await self.render(), refresh=True)
