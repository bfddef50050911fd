"""A local fake Kalshi: the public REST market data at Kalshi's paths, from recorded or test-built
documents, and the WebSocket at `/trade-api/ws/v2` pushing scripted `ticker` and `trade` frames.

Beside fixed documents it serves replayed games' events from recorded candles
(`KalshiData.replayed`, `replay/kalshi_event.py`) on the replay clock: their markets' prices and
candlesticks as Kalshi could have given them at that time, and a `ticker` frame at each candle.

REST answers are pure functions of the data, the request and the time (`rest_reply`); the
WebSocket plays one scripted `Session` per connection on the injected clock, so a test can drop a
connection and watch the client reconnect (a connection without a script gets the replayed
events' frames). Given a public key, the handshake's RSA-PSS signature is checked and a bad one is
refused with HTTP 401 before the upgrade, as Kalshi does. `fail_next` queues error answers (a 429
with Retry-After, a 500) for the REST paths.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from pressbox.clock import Clock
from pressbox.replay.candles import MarketCandles
from pressbox.replay.kalshi_event import ReplayedEvent
from pressbox.replay.server import Reply
from pressbox.sources.kalshi_auth import WS_PATH, verify

REST_PREFIX = "/trade-api/v2"
DEFAULT_LIMIT = 100
#: Kalshi's `status` filter -> the market statuses it selects.
STATUS_FILTER = {
    "unopened": {"initialized", "inactive"},
    "open": {"active", "open"},
    "closed": {"closed"},
    "settled": {"determined", "finalized", "settled", "amended"},
}
_JSON = {"Content-Type": "application/json"}


@dataclass
class KalshiData:
    """The documents the fake serves: raw Kalshi JSON objects, and replayed games' events
    (their documents depend on the time)."""

    markets: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    orderbooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # "*": any market
    candlesticks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    replayed: list[ReplayedEvent] = field(default_factory=list)

    @classmethod
    def from_recordings(cls, directory: Path) -> KalshiData:
        """The zane180 recordings (`kalshi_*.json`): NYK at SAS, 2026-06-13. The recorded order
        book (from an MLB market) answers for every market."""

        def load(name: str) -> Any:
            return json.loads((directory / name).read_text(encoding="utf-8"))

        event = load("kalshi_event.json")
        candles = load("kalshi_candlesticks.json")
        return cls(
            markets=list(load("kalshi_markets.json")["markets"]),
            events={event["event"]["event_ticker"]: event["event"]},
            orderbooks={"*": load("kalshi_orderbook.json")},
            candlesticks={candles["ticker"]: list(candles["candlesticks"])},
            trades=list(load("kalshi_trades.json")["trades"]),
        )

    def market(self, ticker: str) -> dict[str, Any] | None:
        return next((m for m in self.markets if m.get("ticker") == ticker), None)

    def all_markets(self, now: datetime | None) -> list[dict[str, Any]]:
        """The fixed markets, then the replayed ones as they stand at `now` (None: none)."""
        if now is None:
            return self.markets
        return self.markets + [doc for e in self.replayed for doc in e.market_docs(now)]

    def replayed_market(self, ticker: str) -> tuple[ReplayedEvent, MarketCandles] | None:
        """The replayed event holding market `ticker`, and its candles."""
        for event in self.replayed:
            market = event.market(ticker)
            if market is not None:
                return event, market
        return None

    def update_market(self, ticker: str, **fields: Any) -> None:
        """Change a market's fields (prices move between two polls)."""
        market = self.market(ticker)
        if market is None:
            raise KeyError(ticker)
        market.update(fields)


# --- REST: pure decisions -----------------------------------------------------------------------


def rest_reply(
    data: KalshiData, path: str, query: Mapping[str, str], now: datetime | None = None
) -> Reply:
    """What the fake answers to `GET {REST_PREFIX}{path}?query` at `now` (None: the fixed
    documents only)."""
    parts = path.strip("/").split("/")
    try:
        if parts == ["markets"]:
            return _ok(_markets(data, query, now))
        if parts == ["markets", "trades"]:
            return _ok(_trades(data, query))
        if len(parts) == 2 and parts[0] == "markets":
            return _market(data, parts[1], now)
        if len(parts) == 3 and parts[0] == "markets" and parts[2] == "orderbook":
            book = data.orderbooks.get(parts[1]) or data.orderbooks.get("*")
            if book is None or data.market(parts[1]) is None:
                return _error(404, f"no order book for {parts[1]}")
            return _ok(book)
        if len(parts) == 2 and parts[0] == "events":
            return _event(data, parts[1], now)
        if len(parts) == 5 and parts[0] == "series" and parts[4] == "candlesticks":
            return _candles(data, parts[1], parts[3], query, now)
    except ValueError as exc:
        return _error(400, str(exc))
    return _error(404, f"no route {path}")


def page(items: list[dict[str, Any]], query: Mapping[str, str]) -> tuple[list[Any], str]:
    """One page of `items` for `limit` and `cursor`, and the cursor of the next ("" at the end)."""
    limit = int(query.get("limit") or DEFAULT_LIMIT)
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be within 1..1000")
    cursor = query.get("cursor") or ""
    start = int(cursor[1:]) if cursor.startswith("p") and cursor[1:].isdigit() else 0
    if cursor and not start:
        raise ValueError(f"unknown cursor {cursor!r}")
    end = start + limit
    return items[start:end], (f"p{end}" if end < len(items) else "")


def _markets(data: KalshiData, query: Mapping[str, str], now: datetime | None) -> dict[str, Any]:
    selected = data.all_markets(now)
    if query.get("series_ticker"):
        prefix = query["series_ticker"] + "-"
        selected = [m for m in selected if str(m.get("ticker", "")).startswith(prefix)]
    if query.get("event_ticker"):
        wanted = set(query["event_ticker"].split(","))
        selected = [m for m in selected if m.get("event_ticker") in wanted]
    if query.get("tickers"):
        tickers = set(query["tickers"].split(","))
        selected = [m for m in selected if m.get("ticker") in tickers]
    if query.get("status"):
        statuses = STATUS_FILTER.get(query["status"])
        if statuses is None:
            raise ValueError(f"unknown status {query['status']!r}")
        selected = [m for m in selected if m.get("status") in statuses]
    items, cursor = page(selected, query)
    return {"markets": items, "cursor": cursor}


def _trades(data: KalshiData, query: Mapping[str, str]) -> dict[str, Any]:
    selected = [t for t in data.trades if not query.get("ticker") or t["ticker"] == query["ticker"]]
    items, cursor = page(selected, query)
    return {"trades": items, "cursor": cursor}


def _market(data: KalshiData, ticker: str, now: datetime | None) -> Reply:
    market = data.market(ticker)
    if market is None and now is not None and (found := data.replayed_market(ticker)):
        market = found[0].market_doc(found[1], now)
    return _ok({"market": market}) if market else _error(404, f"no market {ticker}")


def _event(data: KalshiData, ticker: str, now: datetime | None) -> Reply:
    event = data.events.get(ticker)
    if event is None:
        replayed = next((e for e in data.replayed if e.event_ticker == ticker), None)
        if replayed is not None and now is not None:
            return _ok(replayed.event_doc(now))
        return _error(404, f"no event {ticker}")
    markets = [m for m in data.markets if m.get("event_ticker") == ticker]
    return _ok({"event": event, "markets": markets})


def _candles(
    data: KalshiData, series: str, ticker: str, query: Mapping[str, str], now: datetime | None
) -> Reply:
    for name in ("start_ts", "end_ts", "period_interval"):
        if not query.get(name, "").isdigit():
            raise ValueError(f"{name} is required (an integer)")
    start, end = int(query["start_ts"]), int(query["end_ts"])
    found = data.replayed_market(ticker) if now is not None else None
    if found is not None and now is not None:
        event, market = found
        if series != event.event.series:
            return _error(404, f"no market {ticker} in series {series}")
        window = (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        period = int(query["period_interval"])
        return _ok(event.candlesticks(market, *window, period, now))
    if ticker not in data.candlesticks:
        return _error(404, f"no candlesticks for {ticker}")
    candles = [c for c in data.candlesticks[ticker] if start <= c["end_period_ts"] <= end]
    return _ok({"ticker": ticker, "candlesticks": candles})


def _ok(document: Any) -> Reply:
    return Reply(200, dict(_JSON), json.dumps(document).encode())


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    body = json.dumps({"error": {"code": str(status), "message": message}}).encode()
    return Reply(status, {**_JSON, **(headers or {})}, body)


# --- WebSocket: scripted sessions ---------------------------------------------------------------


@dataclass(frozen=True)
class ScriptedFrame:
    """A frame pushed `after` seconds (fake clock) after the subscription: `channel` is `ticker`
    or `trade`, `msg` its message (with `market_ticker`)."""

    after: float
    channel: str
    msg: dict[str, Any]


@dataclass(frozen=True)
class Session:
    """What one WebSocket connection is sent; `then_drop` closes it after the last frame."""

    frames: tuple[ScriptedFrame, ...] = ()
    then_drop: bool = False


class FakeKalshi:
    """The fake's state: its data, scripted sessions, queued failures and what it saw."""

    def __init__(
        self,
        data: KalshiData,
        clock: Clock,
        sessions: Sequence[Session] = (),
        public_key: rsa.RSAPublicKey | None = None,
    ) -> None:
        self.data = data
        self.clock = clock
        self.sessions = list(sessions)
        self.public_key = public_key
        self.connections = 0
        self.refused = 0
        self.commands: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self._failures: dict[str, deque[tuple[int, str | None]]] = {}

    def fail_next(self, path: str, status: int, retry_after: str | None = None) -> None:
        """Answer the next GET of `path` (below the REST prefix) with `status`."""
        self._failures.setdefault(path, deque()).append((status, retry_after))

    def app(self) -> Starlette:
        """The ASGI app: REST under `/trade-api/v2`, the WebSocket at `/trade-api/ws/v2`."""
        return Starlette(
            routes=[
                WebSocketRoute(WS_PATH, self._websocket),
                Route(f"{REST_PREFIX}/{{path:path}}", self._rest),
            ]
        )

    async def _rest(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        self.requests.append(path)
        queued = self._failures.get(path)
        if queued:
            status, retry_after = queued.popleft()
            headers = {"Retry-After": retry_after} if retry_after else None
            reply = _error(status, "injected failure", headers)
        else:
            reply = rest_reply(self.data, path, dict(request.query_params), self.clock.now())
        return Response(reply.body, status_code=reply.status, headers=reply.headers)

    async def _websocket(self, websocket: WebSocket) -> None:
        if self.public_key is not None:
            reason = verify(self.public_key, websocket.headers, "GET", WS_PATH)
            if reason is not None:
                self.refused += 1
                await _deny(websocket, reason)
                return
        await websocket.accept()
        number, self.connections = self.connections, self.connections + 1
        scripted = number < len(self.sessions)
        session = self.sessions[number] if scripted else Session()
        try:
            subscription = await self._subscribed(websocket)
            if not scripted and self.data.replayed:
                await self._hold(websocket, self._play_replayed(websocket, subscription))
                return
            await self._play(websocket, session, subscription)
            if session.then_drop:
                await websocket.close(code=1011, reason="scripted drop")
                return
            while True:  # hold the connection until the client leaves
                self.commands.append(await websocket.receive_json())
        except WebSocketDisconnect:
            return

    async def _hold(self, websocket: WebSocket, sending: Coroutine[Any, Any, None]) -> None:
        """Send with `sending` while reading the client's commands, until the client leaves."""
        task = asyncio.create_task(sending, name="fake-kalshi:frames")
        try:
            while True:
                self.commands.append(await websocket.receive_json())
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _play_replayed(self, websocket: WebSocket, subscription: dict[str, Any]) -> None:
        """The replayed events' `ticker` frames from now on, each at its candle's end."""
        sid = subscription["sids"].get("ticker")
        if sid is None:
            return
        wanted = subscription["tickers"]
        frames = sorted(
            (frame for event in self.data.replayed for frame in event.ticker_frames()),
            key=lambda frame: frame[0],
        )
        now = self.clock.now()
        for at, msg in frames:
            if at <= now or (wanted and msg["market_ticker"] not in wanted):
                continue
            await self.clock.sleep(max(0.0, (at - self.clock.now()).total_seconds()))
            await websocket.send_json({"type": "ticker", "sid": sid, "msg": msg})

    async def _subscribed(self, websocket: WebSocket) -> dict[str, Any]:
        """Wait for a `subscribe` command; answer it with one sid per channel."""
        while True:
            command = await websocket.receive_json()
            self.commands.append(command)
            params = command.get("params") or {}
            if command.get("cmd") != "subscribe" or not params.get("channels"):
                await websocket.send_json(
                    {"id": command.get("id"), "type": "error", "msg": {"code": 5}}
                )
                continue
            sids = {channel: sid for sid, channel in enumerate(params["channels"], start=1)}
            for channel, sid in sids.items():
                await websocket.send_json(
                    {
                        "id": command.get("id"),
                        "type": "subscribed",
                        "msg": {"channel": channel, "sid": sid},
                    }
                )
            return {"sids": sids, "tickers": set(params.get("market_tickers") or [])}

    async def _play(
        self, websocket: WebSocket, session: Session, subscription: dict[str, Any]
    ) -> None:
        started = self.clock.now()
        seqs: dict[int, int] = {}
        for frame in session.frames:
            sid = subscription["sids"].get(frame.channel)
            ticker = frame.msg.get("market_ticker")
            if sid is None or (subscription["tickers"] and ticker not in subscription["tickers"]):
                continue
            elapsed = (self.clock.now() - started).total_seconds()
            await self.clock.sleep(max(0.0, frame.after - elapsed))
            seqs[sid] = seqs.get(sid, 0) + 1
            await websocket.send_json(
                {"type": frame.channel, "sid": sid, "seq": seqs[sid], "msg": frame.msg}
            )


async def _deny(websocket: WebSocket, reason: str) -> None:
    """Refuse the handshake with HTTP 401 (or close 1008 where the server cannot)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = {"error": {"code": "authentication_error", "message": reason}}
        await websocket.send_denial_response(JSONResponse(body, status_code=401))
    else:
        await websocket.close(code=1008, reason=reason)


def unix(moment: datetime) -> int:
    """Unix seconds of an aware time (the `ts` of scripted messages)."""
    return int(moment.astimezone(UTC).timestamp())
