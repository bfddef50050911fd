"""A game's market follower: the task that commits what a `MarketSource` yields for the game.

The streamer owns one and gives it a commit callback (its own commit path: lock, commit,
publish, so market and ESPN events share one `seq` series) and an "in play" predicate. Nothing
the follower does reaches the ESPN side, and its points never count as the game's progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from datetime import datetime
from typing import Any

from pressbox.cancellation import finish
from pressbox.clock import Clock
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.domain.market_events import (
    MarketStatus,
    last_market_status,
    last_market_time,
    market_time,
)
from pressbox.sources.retry import Backoff
from pressbox.store import Store
from pressbox.streaming.market import MarketSource

log = logging.getLogger(__name__)

#: How long (wall clock) a stream that ends waits for the market's last points.
FINAL_READ_SECONDS = 10.0


class MarketFollower:
    """Follows one game's market line (`markets`; None: markets off) in a task of its own."""

    def __init__(
        self,
        game_id: str,
        markets: MarketSource | None,
        store: Store,
        clock: Clock,
        *,
        commit: Callable[[Sequence[Event]], Awaitable[None]],
        in_play: Callable[[], bool],
    ) -> None:
        self.game_id = game_id
        self.markets = markets
        self.store = store
        self.clock = clock
        self._commit = commit
        self._in_play = in_play
        self._task: asyncio.Task[None] | None = None
        self._status: MarketStatus | None = None  # the last one logged
        self._since: datetime | None = None  # the time of the last market point logged
        self._game: dict[str, Any] | None = None  # the row it follows

    def restore(self, logged: Sequence[StoredEvent]) -> None:
        """Take the last logged `market_status` and market point from the game's log (a
        restarted stream repeats neither, and backfills the line only from that point)."""
        self._status = last_market_status(logged)
        self._since = last_market_time(logged)

    async def start(self) -> None:
        """Follow the game's market line in a task of its own: nothing it does reaches the
        ESPN side, and its points never count as the game's progress."""
        if self.markets is None or self._task is not None:
            return
        game = await finish(self.store.game(self.game_id))  # a read cut short leaks its connection
        if game is None:
            return
        self._game = game
        self._task = asyncio.create_task(
            self._follow(self.markets, game), name=f"{self.game_id}:market"
        )

    async def stop(self, *, final: bool = False) -> None:
        """Cancel and await the follower's task, if it runs. `final`: the game is over, so the
        market's points the feed had not delivered yet are read from its history and committed
        (within `FINAL_READ_SECONDS`; a failure costs only them)."""
        market, self._task = self._task, None
        if market is None:
            return
        market.cancel()
        await asyncio.gather(market, return_exceptions=True)
        if final and self.markets is not None and self._game is not None:
            try:
                async with asyncio.timeout(FINAL_READ_SECONDS):
                    events = await self.markets.history(self._game, self._since)
                    if events:
                        await self._commit(events)
            except Exception:
                log.exception("game %s: the market's last points were not read", self.game_id)

    async def _follow(self, markets: MarketSource, game: dict[str, Any]) -> None:
        """Commit the market events of `markets`; a failure of the follower (or of a commit)
        is logged and the follower starts again after a backoff, never ending the stream."""
        backoff = Backoff(initial=5.0, cap=300.0)
        while True:
            try:
                follow = markets.follow(game, self._in_play, since=self._since)
                async with aclosing(follow) as events:
                    async for event in events:
                        await self._commit_market(event)
                        backoff.reset()
                return  # the source has nothing to follow
            except Exception:
                log.exception("game %s: the market follower failed; restarting", self.game_id)
            await self.clock.sleep(backoff.next_delay())

    async def _commit_market(self, event: Event) -> None:
        """Commit a market event; a `market_status` only when it changes the last logged one."""
        if event.type is EventType.MARKET_STATUS:
            status = MarketStatus.from_json(event.data)
            if not status.changes(self._status):
                return
            await self._commit([event])
            self._status = status
            return
        await self._commit([event])
        moment = market_time(event.data) if event.type is EventType.MARKET else None
        if moment is not None and (self._since is None or moment > self._since):
            self._since = moment
