"""The Kalshi source against the fake Kalshi over loopback: REST paging and documents, the
budgeted client's 429 policy, the signed WebSocket feed (refusal, reconnect) and REST polling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from pressbox.clock import SystemClock
from pressbox.domain.market import GameMarkets, MarketGame, MarketPoint, Side
from pressbox.errors import UpstreamDataError, UpstreamStatusError
from pressbox.replay.kalshi import FakeKalshi, KalshiData, ScriptedFrame, Session
from pressbox.sources.budget import RequestBudget
from pressbox.sources.http import HttpClient
from pressbox.sources.kalshi import KalshiClient, kalshi_http
from pressbox.sources.kalshi_auth import WS_PATH, KalshiSigner
from pressbox.sources.kalshi_live import MarketFeed
from pressbox.sources.retry import Backoff
from pressbox.web.server import running

EVENT = "KXNBAGAME-26JUN13NYKSAS"
SAS, NYK = f"{EVENT}-SAS", f"{EVENT}-NYK"
GAME = GameMarkets(EVENT, SAS, NYK, "kalshi")
FINALS_G5 = MarketGame(
    "finals-g5",
    "nba",
    datetime(2026, 6, 14, 0, 30, tzinfo=UTC),
    home="SA",
    away="NY",
    home_name="San Antonio Spurs",
    away_name="New York Knicks",
)
TS = 1781301600  # 2026-06-12T22:00Z


class FastClock:
    """Wall-clock time plus whatever the code under test slept: waits pass at once, recorded."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
def recorded(recordings_dir: Path) -> KalshiData:
    return KalshiData.from_recordings(recordings_dir / "kalshi" / "zane180-nba-market-engine")


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_file(path: Path, private_key: rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


async def take(feed: MarketFeed, count: int, within: float = 10.0) -> list[MarketPoint]:
    """The feed's next `count` points; fails the test after `within` seconds."""
    points: list[MarketPoint] = []
    async with asyncio.timeout(within):
        async for point in feed:
            points.append(point)
            if len(points) == count:
                break
    return points


def ticker_frame(after: float, ticker: str, bid: int, ask: int, price: int) -> ScriptedFrame:
    msg = {
        "market_ticker": ticker,
        "price": price,
        "yes_bid": bid,
        "yes_ask": ask,
        "price_dollars": f"{price / 100:.4f}",
        "yes_bid_dollars": f"{bid / 100:.4f}",
        "yes_ask_dollars": f"{ask / 100:.4f}",
        "volume": 1000,
        "open_interest": 500,
        "ts": TS,
    }
    return ScriptedFrame(after, "ticker", msg)


def trade_frame(after: float, ticker: str, yes: int) -> ScriptedFrame:
    msg = {
        "trade_id": f"t-{ticker}-{yes}",
        "market_ticker": ticker,
        "yes_price": yes,
        "no_price": 100 - yes,
        "yes_price_dollars": f"{yes / 100:.4f}",
        "count": 5,
        "taker_side": "yes",
        "ts": TS + 1,
    }
    return ScriptedFrame(after, "trade", msg)


def built_markets(count: int) -> KalshiData:
    markets = [
        {
            "ticker": f"KXNBAGAME-26JUN13AAABBB-T{i}",
            "event_ticker": "KXNBAGAME-26JUN13AAABBB",
            "status": "active",
            "yes_bid": 40 + i,
            "yes_ask": 42 + i,
            "last_price_dollars": f"0.{41 + i}00",
            "volume": 10 * i,
        }
        for i in range(count)
    ]
    return KalshiData(markets=markets)


class Upstream:
    """The fake served on loopback, and a Kalshi client of it on its own budgeted host client."""

    def __init__(self, fake: FakeKalshi, base: str, http: HttpClient) -> None:
        self.fake = fake
        self.base = base
        self.http = http
        self.client = KalshiClient(http)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + WS_PATH


@contextlib.asynccontextmanager
async def upstream_of(fake: FakeKalshi, clock: Any, max_pages: int = 10) -> AsyncIterator[Upstream]:
    async with running(fake.app(), "127.0.0.1", 0) as base:
        http = kalshi_http(f"{base}/trade-api/v2", clock, rate=200, burst=50, timeout=5)
        try:
            up = Upstream(fake, base, http)
            up.client = KalshiClient(http, max_pages=max_pages)
            yield up
        finally:
            await http.aclose()


# --- REST ---------------------------------------------------------------------------------------


async def test_markets_follow_the_cursor_and_stop_at_max_pages() -> None:
    fake = FakeKalshi(built_markets(5), SystemClock())
    async with upstream_of(fake, FastClock()) as up:
        markets = await up.client.markets(series_ticker="KXNBAGAME", limit=2)
        assert [m.ticker[-2:] for m in markets] == ["T0", "T1", "T2", "T3", "T4"]
        assert fake.requests == ["/markets"] * 3
        assert markets[1].yes_bid is not None and float(markets[1].yes_bid) == 0.41
        assert await up.client.markets(series_ticker="KXNFLGAME") == []
        bounded = KalshiClient(up.http, max_pages=2)
        assert len(await bounded.markets(series_ticker="KXNBAGAME", limit=2)) == 4


async def test_recorded_documents_over_http(recorded: KalshiData) -> None:
    fake = FakeKalshi(recorded, SystemClock())
    async with upstream_of(fake, FastClock()) as up:
        client = up.client
        market = await client.market(SAS)
        assert (market.ticker, float(market.last_price or 0)) == (SAS, 0.01)
        event = await client.event(EVENT)
        assert event.event.sub_title == "NYK at SAS (Jun 13)"
        assert [m.ticker for m in event.all_markets] == [SAS, NYK]
        book = await client.orderbook(SAS, depth=5)
        assert (float(book.best_yes_bid or 0), float(book.best_yes_ask or 0)) == (0.70, 0.71)
        candles = await client.candlesticks(
            "KXNBAGAME",
            SAS,
            datetime(2026, 6, 12, 22, 30, tzinfo=UTC),
            datetime(2026, 6, 13, 0, 0, tzinfo=UTC),
            period_minutes=60,
        )
        assert [c.end.hour for c in candles] == [23, 0]
        with pytest.raises(ValueError, match="period_minutes"):
            await client.candlesticks("KXNBAGAME", SAS, candles[0].end, candles[1].end, 5)
        trades = await client.trades(SAS, limit=2)
        assert len(trades) == 3 and fake.requests.count("/markets/trades") == 2
        settled = await client.markets(event_ticker=EVENT, status="settled")
        assert {m.ticker for m in settled} == {SAS, NYK}
        assert await client.markets(event_ticker=EVENT, status="open") == []
        with pytest.raises(UpstreamStatusError) as missing:
            await client.market("KXNBAGAME-26JUN13NYKSAS-BOS")
        assert missing.value.status == 404


async def test_a_429_pauses_the_host_for_its_retry_after(recorded: KalshiData) -> None:
    fake = FakeKalshi(recorded, SystemClock())
    clock = FastClock()
    async with upstream_of(fake, clock) as up:
        fake.fail_next(f"/markets/{SAS}", 429, retry_after="2")
        with pytest.raises(UpstreamStatusError) as limited:
            await up.client.market(SAS)
        assert limited.value.status == 429
        assert (await up.client.market(SAS)).ticker == SAS  # sent only after the pause
        assert any(1.5 < s <= 2.0 for s in clock.slept), clock.slept
        assert up.http.stats.by_kind["kalshi-market"].errors == 1


async def test_a_body_that_is_not_json_is_an_upstream_data_error() -> None:
    clock = FastClock()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"<html>"))
    http = HttpClient(
        "http://kalshi.test/trade-api/v2", clock, RequestBudget(clock, 10), transport=transport
    )
    try:
        with pytest.raises(UpstreamDataError, match="not JSON"):
            await KalshiClient(http).market(SAS)
    finally:
        await http.aclose()


async def test_game_markets_prefer_kalshi_then_the_override_then_the_guess(
    recorded: KalshiData,
) -> None:
    fake = FakeKalshi(recorded, SystemClock())
    async with upstream_of(fake, FastClock()) as up:
        found = await up.client.game_markets(FINALS_G5)
        assert (found.home_ticker, found.away_ticker, found.source) == (SAS, NYK, "kalshi")
        assert fake.requests == ["/markets"]
        overridden = await up.client.game_markets(FINALS_G5, override=EVENT)
        assert (overridden.home_ticker, overridden.source) == (SAS, "override")
        later = MarketGame("g", "nba", datetime(2026, 6, 17, 0, 30, tzinfo=UTC), "NY", "SA")
        guessed = await up.client.game_markets(later)
        assert (guessed.event_ticker, guessed.source) == ("KXNBAGAME-26JUN16SASNYK", "guess")


# --- the live feed ------------------------------------------------------------------------------


async def test_signed_websocket_feed_reconnects_and_resubscribes(
    recorded: KalshiData, key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    sessions = [
        Session(
            (
                ticker_frame(0.0, "KXNBAGAME-26JUN13NYKSAS-XXX", 10, 12, 11),  # not subscribed
                ticker_frame(0.0, SAS, 63, 65, 64),
                trade_frame(0.02, NYK, 36),
            ),
            then_drop=True,
        ),
        Session((ticker_frame(0.02, SAS, 70, 72, 71),)),
    ]
    fake = FakeKalshi(recorded, SystemClock(), sessions, public_key=key.public_key())
    signer = KalshiSigner.from_file("key-1", pem_file(tmp_path / "kalshi.pem", key))
    baseline = asyncio.all_tasks()
    async with upstream_of(fake, SystemClock()) as up:
        feed = MarketFeed(
            up.client,
            GAME,
            SystemClock(),
            ws_url=up.ws_url,
            signer=signer,
            backoff=Backoff(initial=0.01, cap=0.05),
        )
        async with feed:
            assert feed.mode == "websocket"
            points = await take(feed, 5)
        assert [(p.ticker, p.side, p.implied_home) for p in points] == [
            (SAS, Side.HOME, pytest.approx(0.01)),  # the REST snapshot: settled markets
            (NYK, Side.AWAY, pytest.approx(0.01)),
            (SAS, Side.HOME, pytest.approx(0.64)),  # ticker: mid of 0.63 / 0.65
            (NYK, Side.AWAY, pytest.approx(0.64)),  # trade of the away team at 0.36
            (SAS, Side.HOME, pytest.approx(0.71)),  # after the reconnect
        ]
        assert (points[2].bid, points[2].ask, points[2].last) == (0.63, 0.65, 0.64)
        assert points[2].time == datetime.fromtimestamp(TS, UTC)
        assert (feed.connections, fake.connections, fake.refused) == (2, 2, 0)
        subscribes = [c for c in fake.commands if c.get("cmd") == "subscribe"]
        assert len(subscribes) == 2
        assert subscribes[0]["params"] == {
            "channels": ["ticker", "trade"],
            "market_tickers": [SAS, NYK],
        }
        assert subscribes[1]["id"] > subscribes[0]["id"]
    await settled_tasks(baseline)


async def test_a_wrong_key_is_refused_and_the_feed_polls_instead(
    recorded: KalshiData, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    fake = FakeKalshi(recorded, SystemClock(), public_key=key.public_key())
    async with upstream_of(fake, SystemClock()) as up:
        with pytest.raises(InvalidStatus) as unsigned:
            async with asyncio.timeout(5), connect(up.ws_url, proxy=None):
                pass
        assert unsigned.value.response.status_code == 401
        feed = MarketFeed(
            up.client,
            GAME,
            SystemClock(),
            ws_url=up.ws_url,
            signer=KalshiSigner("key-2", other_key),
            poll_seconds=0.05,
            backoff=Backoff(initial=0.01, cap=0.05),
        )
        async with feed:
            points = await take(feed, 2)
            assert feed.auth_refused and feed.mode == "polling"
        assert {p.ticker for p in points} == {SAS, NYK}
        assert (fake.refused, fake.connections) == (2, 0)


async def test_polling_without_a_key_yields_only_changes(recorded: KalshiData) -> None:
    fake = FakeKalshi(recorded, SystemClock())
    baseline = asyncio.all_tasks()
    async with upstream_of(fake, SystemClock()) as up:
        feed = MarketFeed(up.client, GAME, SystemClock(), ws_url=up.ws_url, poll_seconds=0.05)
        async with feed:
            assert feed.mode == "polling"
            first = await take(feed, 2)
            assert {p.ticker for p in first} == {SAS, NYK}
            recorded.update_market(SAS, yes_bid_dollars="0.5500", yes_ask_dollars="0.5700")
            (moved,) = await take(feed, 1)
            polls = fake.requests.count("/markets")
        assert (moved.ticker, moved.implied_home) == (SAS, pytest.approx(0.56))
        assert polls >= 2
        await asyncio.sleep(0.2)
        assert fake.requests.count("/markets") == polls  # closed: no poll after the end
    await settled_tasks(baseline)


async def test_a_failing_poll_backs_off_and_recovers(recorded: KalshiData) -> None:
    fake = FakeKalshi(recorded, SystemClock())
    clock = FastClock()
    async with upstream_of(fake, clock) as up:
        fake.fail_next("/markets", 500)
        fake.fail_next("/markets", 503)
        backoff = Backoff(initial=0.5, cap=4.0)
        feed = MarketFeed(up.client, GAME, clock, ws_url=up.ws_url, backoff=backoff)
        async with feed:
            points = await take(feed, 2)
        assert {p.ticker for p in points} == {SAS, NYK}
        assert fake.requests[:3] == ["/markets"] * 3
        assert len(clock.slept) >= 2 and all(s <= 4.0 for s in clock.slept[:2])


async def settled_tasks(baseline: set[asyncio.Task[Any]]) -> None:
    """Wait (5 s at most) until no task is left beyond those alive before the test's work."""
    leftover: set[asyncio.Task[Any]] = set()
    for _ in range(250):
        leftover = {t for t in asyncio.all_tasks() - baseline if t is not asyncio.current_task()}
        if not leftover:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"tasks left behind: {leftover}")
