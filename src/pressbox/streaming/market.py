"""A game's market line: a `MarketSource` turns a game into `market` and `market_status` events.

The streamer knows only the protocol: it starts one follower per game once it knows the game's
row, commits what the follower yields through its own commit path, and stops it with its other
workers. `KalshiMarkets` is the Kalshi implementation:

- it resolves the game's event and team markets (the `PRESSBOX_KALSHI_MARKETS` override, else
  Kalshi's listed events, else the guessed tickers, which count only if Kalshi lists them);
- no market: `absent`, and it looks again every `recheck` (a market can be listed later);
- it backfills the line from Kalshi's one-minute candlesticks: from the last point the game's log
  holds (`since`), else from `BACKFILL_BEFORE` the start, up to now, so a stream that starts (or
  is taken over) mid-game shows the market's history, not only what came after it joined;
- then it follows the markets (`MarketFeed`: the signed WebSocket with a key, else REST polling)
  and yields every point as a `market` event; the first point says `live`;
- while the game is in play, `stale_after` without a point makes it ask Kalshi once: a market
  that answers is only quiet (the feed yields changes only) and stays `live`; one that does not
  is `stale` until it answers again.

The follower yields a status as often as it likes; the streamer logs only changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any, Protocol

from pressbox.clock import Clock, parse_time
from pressbox.config import Settings
from pressbox.domain.events import Event
from pressbox.domain.market import GameMarkets, MarketGame, MarketPoint, Side, point_of_candle
from pressbox.domain.market_events import (
    MarketState,
    MarketStatus,
    market_event,
    market_status_event,
)
from pressbox.errors import UpstreamError
from pressbox.sources.kalshi import KalshiClient
from pressbox.sources.kalshi_auth import KalshiSigner
from pressbox.sources.kalshi_live import MarketFeed
from pressbox.sources.retry import Backoff

log = logging.getLogger(__name__)

#: A game summary of docs/protocol.md, as `Store.game` returns it.
GameRow = Mapping[str, Any]

#: While the game is in play, this long without a point makes the follower check on Kalshi.
STALE_AFTER = timedelta(minutes=3)
#: How often a game without a market looks for one again.
RECHECK_EVERY = timedelta(minutes=5)
#: A stream without a market point yet backfills its line from this long before the start.
BACKFILL_BEFORE = timedelta(hours=1)
#: How often the follower wakes to judge staleness when no point comes.
CHECK_EVERY = timedelta(seconds=30)


class MarketSource(Protocol):
    """Where a game's market events come from; the streamer knows nothing more of markets."""

    def follow(
        self, game: GameRow, in_play: Callable[[], bool], *, since: datetime | None = None
    ) -> AsyncGenerator[Event, None]:
        """Market events of `game` for as long as it is iterated; `in_play` says whether the
        game is being played now (staleness is judged only then), `since` is the time of the
        last market point the game's log holds (None: none). Never raises for upstream
        failures: they become statuses."""
        ...

    async def history(self, game: GameRow, since: datetime | None) -> list[Event]:
        """The market points of `game` after `since` up to now, for a stream that ends: what
        the feed had not delivered yet. Never raises for upstream failures (nothing, then)."""
        ...


def market_game(row: GameRow) -> MarketGame:
    """What the mapping needs of a game row. Raises ValueError when the row lacks it (no start
    time or team abbreviations yet) or its league has no Kalshi series."""
    home, away = row.get("home") or {}, row.get("away") or {}
    if not row.get("start_time") or not home.get("abbreviation") or not away.get("abbreviation"):
        raise ValueError("the game has no start time or team abbreviations yet")
    game = MarketGame(
        str(row["id"]),
        str(row["league"]),
        parse_time(str(row["start_time"])),
        str(home["abbreviation"]),
        str(away["abbreviation"]),
        str(home.get("name") or ""),
        str(away.get("name") or ""),
    )
    game.series  # noqa: B018 -- raises ValueError for a league Kalshi has no series of
    return game


class KalshiMarkets:
    """Follows games' Kalshi markets through one shared `KalshiClient`."""

    def __init__(
        self,
        client: KalshiClient,
        settings: Settings,
        clock: Clock,
        *,
        ws_url: str | None = None,
        signer: KalshiSigner | None = None,
        stale_after: timedelta = STALE_AFTER,
        recheck: timedelta = RECHECK_EVERY,
        check_every: timedelta = CHECK_EVERY,
    ) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self.ws_url = ws_url or settings.kalshi_ws_url
        self.signer = signer
        self.stale_after = stale_after
        self.recheck = recheck
        self.check_every = check_every

    async def follow(
        self, game: GameRow, in_play: Callable[[], bool], *, since: datetime | None = None
    ) -> AsyncGenerator[Event, None]:
        """See `MarketSource.follow`."""
        try:
            wanted = market_game(game)
        except ValueError as exc:
            yield self._status(MarketState.ABSENT, None, f"no Kalshi market: {exc}")
            return
        markets = None
        backoff = Backoff(initial=5.0, cap=self.recheck.total_seconds())
        while markets is None:
            try:
                markets, listed = await self._resolve(wanted)
            except UpstreamError as exc:
                yield self._status(MarketState.ABSENT, None, f"Kalshi did not answer: {exc}")
                await self.clock.sleep(backoff.next_delay(exc))
                continue
            if not listed:
                reason = f"Kalshi lists no market for this game (looked for {markets.event_ticker})"
                yield self._status(MarketState.ABSENT, None, reason)
                markets = None
                await self.clock.sleep(self.recheck.total_seconds())
        log.info("game %s: following Kalshi event %s", wanted.id, markets.event_ticker)
        async with aclosing(self._watch(wanted, markets, in_play, since)) as events:
            async for event in events:
                yield event

    async def history(self, game: GameRow, since: datetime | None) -> list[Event]:
        """See `MarketSource.history`."""
        try:
            wanted = market_game(game)
            markets, listed = await self._resolve(wanted)
        except (ValueError, UpstreamError):
            return []
        if not listed:
            return []
        now = self.clock.now()
        return [market_event(p, now) for p in await self._backfill(wanted, markets, since)]

    async def _resolve(self, game: MarketGame) -> tuple[GameMarkets, bool]:
        """The game's markets and whether Kalshi lists them (a guess or an override may name
        markets that do not exist)."""
        override = self.settings.kalshi_markets.get(game.id)
        markets = await self.client.game_markets(game, override)
        if markets.source == "kalshi":
            return markets, True
        return markets, bool(await self.client.markets(tickers=markets.tickers))

    async def _backfill(
        self,
        game: MarketGame,
        markets: GameMarkets,
        since: datetime | None,
        *,
        until: datetime | None = None,
        before: datetime | None = None,
    ) -> list[MarketPoint]:
        """The priced (or quoted) one-minute candles of both markets that ended after `since`
        (else from `BACKFILL_BEFORE` the start) and by `until` (or before `before`; else now),
        as points in time order (the home market's last at a tie, as the chart keeps it).
        Kalshi failing to answer costs the backfill only."""
        start = since or game.start - BACKFILL_BEFORE
        end = before or until or self.clock.now()
        if start >= end:
            return []
        points = []
        for ticker in markets.tickers:
            side = markets.side_of(ticker)
            assert side is not None
            try:
                candles = await self.client.candlesticks(game.series, ticker, start, end)
            except UpstreamError as exc:
                log.warning("game %s: no market history for %s: %s", game.id, ticker, exc)
                continue
            points += [
                p
                for c in candles
                if since is None or c.end > since
                if (c.end < end if before else c.end <= end)
                if (p := point_of_candle(c, ticker, side)).implied_home is not None
            ]
        return sorted(points, key=lambda p: (p.time, p.side is Side.HOME))

    async def _watch(
        self,
        game: MarketGame,
        markets: GameMarkets,
        in_play: Callable[[], bool],
        since: datetime | None,
    ) -> AsyncGenerator[Event, None]:
        """The market's history since `since`, then its points as they come. The feed hears
        only what happens after it subscribed, so the history is caught up once more to the
        first point it hears: the candles that ended while it connected."""
        state: MarketState | None = None
        covered = self.clock.now()
        for past in await self._backfill(game, markets, since, until=covered):
            if state is None:
                state = MarketState.LIVE
                yield self._status(state, markets)
            yield market_event(past, self.clock.now())
        feed = MarketFeed(
            self.client,
            markets,
            self.clock,
            ws_url=self.ws_url,
            signer=self.signer,
            poll_seconds=self.settings.kalshi_poll_seconds,
        )
        caught_up = False
        heard = self.clock.now()  # the last point, or the last answer to a check
        ticks = _with_ticks(aiter(feed), self.clock, self.check_every)
        async with feed, aclosing(ticks):
            async for point in ticks:
                now = self.clock.now()
                if point is not None:
                    heard = now
                    if state is not MarketState.LIVE:
                        state = MarketState.LIVE
                        yield self._status(state, markets)
                    if not caught_up:
                        caught_up = True
                        gap = await self._backfill(game, markets, covered, before=point.time)
                        for missed in gap:
                            yield market_event(missed, now)
                    yield market_event(point, now)
                elif in_play() and now - heard >= self.stale_after:
                    reason = await self._check(markets)
                    if reason is None:
                        heard, state = now, MarketState.LIVE
                    else:
                        state = MarketState.STALE
                    yield self._status(state, markets, reason)

    async def _check(self, markets: GameMarkets) -> str | None:
        """None if Kalshi answers for the markets now, else why not."""
        try:
            await self.client.markets(tickers=markets.tickers)
        except UpstreamError as exc:
            return f"no price for a while; Kalshi did not answer: {exc}"
        return None

    def _status(
        self, state: MarketState, markets: GameMarkets | None, reason: str | None = None
    ) -> Event:
        return market_status_event(MarketStatus.of(state, markets, reason), self.clock.now())


async def _with_ticks(
    points: AsyncIterator[MarketPoint], clock: Clock, every: timedelta
) -> AsyncGenerator[MarketPoint | None, None]:
    """The points of `points`, and None whenever `every` (on `clock`) passes without one."""
    pending: asyncio.Task[MarketPoint] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.create_task(_next(points))
            tick = asyncio.create_task(clock.sleep(every.total_seconds()))
            try:
                await asyncio.wait({pending, tick}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                tick.cancel()
                await asyncio.gather(tick, return_exceptions=True)
            if not pending.done():
                yield None
                continue
            done, pending = pending, None
            try:
                point = done.result()  # the feed's own error, if any, ends the follower
            except StopAsyncIteration:
                return
            yield point
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


async def _next(points: AsyncIterator[MarketPoint]) -> MarketPoint:
    return await anext(points)
