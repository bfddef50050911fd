"""Kalshi's public market data (Trade API v2, REST) through the Kalshi host's budgeted client.

Kalshi is its own host with its own `HttpClient` and budget: the same failure policy as ESPN
(a 429's Retry-After pauses the host, a 403 opens its circuit), the same `UpstreamError`s. Lists
(`/markets`, `/markets/trades`) are cursor-paged; every walk is bounded by `max_pages`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import httpx

from pressbox.clock import Clock
from pressbox.domain.kalshi import (
    Candle,
    Candlesticks,
    EventDoc,
    Market,
    MarketDoc,
    MarketsPage,
    Orderbook,
    Paged,
    Trade,
    TradesPage,
    parse,
)
from pressbox.domain.market import GameMarkets, MarketGame, guess_markets, match_game
from pressbox.domain.market import override_markets as _override_markets
from pressbox.sources.budget import RequestBudget
from pressbox.sources.http import HttpClient

log = logging.getLogger(__name__)

DEFAULT_REST_URL = "https://api.elections.kalshi.com/trade-api/v2"
DEFAULT_WS_URL = "wss://api.elections.kalshi.com/trade-api/ws/v2"
#: Kalshi allows up to 1000 markets per page; 200 keeps one page of a busy series small.
PAGE_LIMIT = 200
MAX_PAGES = 10
#: Candlestick periods Kalshi serves, in minutes.
PERIODS = (1, 60, 1440)

P = TypeVar("P", bound=Paged)


def kalshi_http(
    base_url: str,
    clock: Clock,
    *,
    rate: float = 5.0,
    burst: int = 5,
    timeout: float = 10.0,
    block: timedelta = timedelta(minutes=5),
    transport: httpx.AsyncBaseTransport | None = None,
) -> HttpClient:
    """The Kalshi host's own budgeted client (`base_url` ends with `/trade-api/v2`)."""
    budget = RequestBudget(clock, rate, burst)
    return HttpClient(base_url, clock, budget, timeout=timeout, block=block, transport=transport)


class KalshiClient:
    """Reads Kalshi market data through the Kalshi host's shared HttpClient."""

    def __init__(self, http: HttpClient, *, max_pages: int = MAX_PAGES) -> None:
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self.http = http
        self.max_pages = max_pages

    async def markets(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] = (),
        limit: int = PAGE_LIMIT,
    ) -> list[Market]:
        """Markets matching every filter given, across pages (at most `max_pages`)."""
        params = {
            "series_ticker": series_ticker,
            "event_ticker": event_ticker,
            "status": status,
            "tickers": ",".join(tickers) or None,
            "limit": str(limit),
        }
        markets: list[Market] = []
        for page in await self._pages(MarketsPage, "/markets", "kalshi-markets", params):
            markets.extend(page.markets)
        return markets

    async def market(self, ticker: str) -> Market:
        """One market by ticker."""
        fetched = await self.http.get(f"/markets/{ticker}", "kalshi-market")
        return parse(MarketDoc, fetched.body, f"market {ticker}").market

    async def event(self, event_ticker: str) -> EventDoc:
        """One event (`sub_title` such as "NYK at SAS (Jun 13)") with its markets."""
        fetched = await self.http.get(f"/events/{event_ticker}", "kalshi-event")
        return parse(EventDoc, fetched.body, f"event {event_ticker}")

    async def orderbook(self, ticker: str, depth: int | None = None) -> Orderbook:
        """A market's order book: yes bids and no bids (the asks follow from them)."""
        params = {"depth": str(depth)} if depth is not None else None
        fetched = await self.http.get(f"/markets/{ticker}/orderbook", "kalshi-orderbook", params)
        return parse(Orderbook, fetched.body, f"order book of {ticker}")

    async def candlesticks(
        self,
        series_ticker: str,
        ticker: str,
        start: datetime,
        end: datetime,
        period_minutes: int = 1,
    ) -> list[Candle]:
        """A market's candles between `start` and `end`, one per `period_minutes` (1, 60, 1440)."""
        if period_minutes not in PERIODS:
            raise ValueError(f"period_minutes must be one of {PERIODS}, got {period_minutes}")
        params = {
            "start_ts": str(int(start.timestamp())),
            "end_ts": str(int(end.timestamp())),
            "period_interval": str(period_minutes),
        }
        url = f"/series/{series_ticker}/markets/{ticker}/candlesticks"
        fetched = await self.http.get(url, "kalshi-candlesticks", params)
        return parse(Candlesticks, fetched.body, f"candlesticks of {ticker}").candlesticks

    async def trades(
        self,
        ticker: str,
        *,
        min_ts: datetime | None = None,
        max_ts: datetime | None = None,
        limit: int = PAGE_LIMIT,
    ) -> list[Trade]:
        """A market's trades, newest first, across pages (at most `max_pages`)."""
        params = {
            "ticker": ticker,
            "min_ts": str(int(min_ts.timestamp())) if min_ts else None,
            "max_ts": str(int(max_ts.timestamp())) if max_ts else None,
            "limit": str(limit),
        }
        trades: list[Trade] = []
        for page in await self._pages(TradesPage, "/markets/trades", "kalshi-trades", params):
            trades.extend(page.trades)
        return trades

    async def game_markets(self, game: MarketGame, override: str | None = None) -> GameMarkets:
        """A game's event and team markets: the configured override, else the event Kalshi lists
        under the guessed ticker, else an open event of the series naming both teams, else the
        guess itself (which polling then finds or not)."""
        if override:
            return _override_markets(game, override, await self.markets(event_ticker=override))
        guess = guess_markets(game)
        found = match_game(game, await self.markets(event_ticker=guess.event_ticker))
        if found is None:
            found = match_game(game, await self.markets(series_ticker=game.series, status="open"))
        return found or guess

    async def _pages(
        self, model: type[P], path: str, kind: str, params: dict[str, str | None]
    ) -> list[P]:
        """Follow `cursor` from page to page until it is empty, at most `max_pages` pages."""
        query = {name: value for name, value in params.items() if value}
        pages: list[P] = []
        cursor = ""
        for _ in range(self.max_pages):
            fetched = await self.http.get(
                path, kind, {**query, "cursor": cursor} if cursor else query
            )
            page = parse(model, fetched.body, f"{path} page {len(pages) + 1}")
            pages.append(page)
            cursor = page.cursor or ""
            if not cursor or not page.size:
                return pages
        log.warning("%s: stopped after %d pages (more remain)", path, self.max_pages)
        return pages
