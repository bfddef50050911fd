"""A game's live Kalshi prices as `MarketPoint`s: the WebSocket's `ticker` and `trade` channels
when a key is configured, REST polling of the markets otherwise.

WebSocket: the handshake is signed (`sources.kalshi_auth`), one `subscribe` command asks for both
channels on both markets, and a REST snapshot after each (re)connect gives the prices as they
stand (the ticker channel speaks only on change). A dropped connection reconnects after a jittered
exponential backoff (`sources.retry`) and subscribes again. A handshake refused with 401 or 403
means the key is wrong: the feed says so (`auth_refused`) and polls instead, since market data
is public.

Polling: the markets are read in one budgeted request every `poll_seconds` (less the time the
request took); only changed prices become points; errors back off.

The feed owns no background task: its frames are read in the iterator itself, so closing the
iterator (`async with feed` or `aclose()`) closes the connection and nothing is left behind.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from pressbox.clock import Clock
from pressbox.domain.kalshi import Frame, Market, TickerMessage, TradeMessage, parse
from pressbox.domain.market import (
    GameMarkets,
    MarketPoint,
    point_of_market,
    point_of_ticker,
    point_of_trade,
)
from pressbox.errors import UpstreamError
from pressbox.sources.kalshi import KalshiClient
from pressbox.sources.kalshi_auth import WS_PATH, KalshiSigner
from pressbox.sources.retry import Backoff

log = logging.getLogger(__name__)

CHANNELS = ("ticker", "trade")
_REFUSED = frozenset({401, 403})


class MarketFeed:
    """MarketPoints of one game's two markets, as an async iterator; use as `async with`."""

    def __init__(
        self,
        client: KalshiClient,
        markets: GameMarkets,
        clock: Clock,
        *,
        ws_url: str,
        signer: KalshiSigner | None = None,
        poll_seconds: float = 5.0,
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
    ) -> None:
        if poll_seconds <= 0:
            raise ValueError("poll_seconds must be positive")
        self.client = client
        self.markets = markets
        self.clock = clock
        self.ws_url = ws_url
        self.signer = signer
        self.poll_seconds = poll_seconds
        self.backoff = backoff or Backoff(initial=1.0, cap=60.0)
        self.open_timeout = open_timeout
        #: Set when Kalshi refused the signed handshake: the feed polls from then on.
        self.auth_refused = False
        #: WebSocket connections opened so far (a reconnect adds one).
        self.connections = 0
        self._last: dict[str, tuple[Any, ...]] = {}
        self._ids = itertools.count(1)
        self._points: AsyncGenerator[MarketPoint, None] | None = None

    @property
    def mode(self) -> str:
        """ "websocket" while a signer is usable, else "polling"."""
        return "websocket" if self.signer is not None and not self.auth_refused else "polling"

    def __aiter__(self) -> AsyncIterator[MarketPoint]:
        if self._points is None:
            self._points = self._run()
        return self._points

    async def __aenter__(self) -> MarketFeed:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: closes the connection (if any) of a running iterator."""
        points, self._points = self._points, None
        if points is not None:
            await points.aclose()

    async def _run(self) -> AsyncGenerator[MarketPoint, None]:
        if self.signer is not None:
            async for point in self._live():
                yield point
        async for point in self._poll():
            yield point

    # --- WebSocket ------------------------------------------------------------------------------

    async def _live(self) -> AsyncIterator[MarketPoint]:
        """Points from the WebSocket, reconnecting for ever; returns when the key is refused."""
        while True:
            try:
                async with self._connect() as ws:
                    self.connections += 1
                    await self._subscribe(ws)
                    for current in await self._snapshot():
                        yield current
                    async for raw in ws:
                        point = self._on_frame(raw)
                        if point is not None:
                            self.backoff.reset()
                            yield point
                log.info("Kalshi WebSocket closed by the server; reconnecting")
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in _REFUSED:
                    log.error("Kalshi refused the signed handshake (HTTP %d): polling", status)
                    self.auth_refused = True
                    return
                log.warning("Kalshi WebSocket handshake failed: HTTP %d", status)
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.warning("Kalshi WebSocket failed: %r", exc)
            await self.clock.sleep(self.backoff.next_delay())

    def _connect(self) -> connect:
        assert self.signer is not None
        headers = self.signer.headers("GET", WS_PATH, self.clock.now())
        return connect(
            self.ws_url,
            additional_headers=headers,
            open_timeout=self.open_timeout,
            max_size=1 << 20,
            compression=None,
            user_agent_header="pressbox/0.1",
        )

    async def _subscribe(self, ws: ClientConnection) -> None:
        command = {
            "id": next(self._ids),
            "cmd": "subscribe",
            "params": {"channels": list(CHANNELS), "market_tickers": list(self.markets.tickers)},
        }
        await ws.send(json.dumps(command))

    async def _snapshot(self) -> list[MarketPoint]:
        """The markets as they stand (REST), so a (re)connect starts from current prices."""
        try:
            return self._changed(await self.client.markets(tickers=self.markets.tickers))
        except UpstreamError as exc:
            log.warning("Kalshi snapshot failed: %s", exc)
            return []

    def _on_frame(self, raw: str | bytes) -> MarketPoint | None:
        """The point a frame carries, if any; malformed frames are logged and skipped."""
        try:
            frame = parse(Frame, raw, "WebSocket frame")
            if frame.type == "ticker":
                ticker = parse(TickerMessage, frame.msg, "ticker message")
                side = self.markets.side_of(ticker.market_ticker)
                return None if side is None else point_of_ticker(ticker, side, self.clock.now())
            if frame.type == "trade":
                trade = parse(TradeMessage, frame.msg, "trade message")
                side = self.markets.side_of(trade.market_ticker)
                return None if side is None else point_of_trade(trade, side, self.clock.now())
            if frame.type == "error":
                log.warning("Kalshi WebSocket error: %s", frame.msg)
        except UpstreamError as exc:
            log.warning("skipping a Kalshi frame: %s", exc)
        return None

    # --- polling --------------------------------------------------------------------------------

    async def _poll(self) -> AsyncIterator[MarketPoint]:
        """Points from REST polling, for ever."""
        while True:
            started = self.clock.now()
            try:
                markets = await self.client.markets(tickers=self.markets.tickers)
            except UpstreamError as exc:
                log.warning("Kalshi poll failed: %s", exc)
                await self.clock.sleep(self.backoff.next_delay(exc))
                continue
            self.backoff.reset()
            for point in self._changed(markets):
                yield point
            spent = (self.clock.now() - started).total_seconds()
            await self.clock.sleep(max(0.0, self.poll_seconds - spent))

    def _changed(self, markets: list[Market]) -> list[MarketPoint]:
        """Points of the markets whose prices or volume moved since last seen."""
        points = []
        now = self.clock.now()
        for market in markets:
            side = self.markets.side_of(market.ticker)
            if side is None:
                continue
            point = point_of_market(market, side, now)
            seen = (point.bid, point.ask, point.last, point.volume)
            if self._last.get(market.ticker) != seen:
                self._last[market.ticker] = seen
                points.append(point)
        return points
