"""Kalshi documents on the real recordings (dollar strings and legacy cents read alike), and
the RSA-PSS request signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pressbox.domain.kalshi import (
    Candlesticks,
    EventDoc,
    Frame,
    Market,
    MarketsPage,
    Orderbook,
    TickerMessage,
    TradeMessage,
    TradesPage,
    parse,
)
from pressbox.errors import ConfigError, UpstreamDataError
from pressbox.sources.kalshi_auth import (
    WS_PATH,
    KalshiSigner,
    configured_signer,
    load_public_key,
    signed_message,
    verify,
)

SAS = "KXNBAGAME-26JUN13NYKSAS-SAS"
NYK = "KXNBAGAME-26JUN13NYKSAS-NYK"


@pytest.fixture(scope="module")
def zane(recordings_dir: Path) -> Path:
    return recordings_dir / "kalshi" / "zane180-nba-market-engine"


@pytest.fixture(scope="module")
def brianlee(recordings_dir: Path) -> dict[str, Any]:
    path = recordings_dir / "kalshi" / "brianlee7281-football-kalshi-trading"
    raw: dict[str, Any] = json.loads((path / "kalshi_exploration_raw.json").read_bytes())
    return raw


def test_markets_read_dollar_strings_and_fp_counts(zane: Path) -> None:
    page = parse(MarketsPage, (zane / "kalshi_markets.json").read_bytes(), "markets")
    by_ticker = {m.ticker: m for m in page.markets}
    assert set(by_ticker) == {SAS, NYK}
    sas, nyk = by_ticker[SAS], by_ticker[NYK]
    assert (sas.last_price, nyk.last_price) == (Decimal("0.01"), Decimal("0.99"))
    assert sas.volume == Decimal("48467702.82")
    assert nyk.volume == Decimal("107027102.30")
    assert (sas.yes_bid, sas.yes_ask) == (Decimal(0), Decimal(1))  # settled: an empty book
    assert (sas.result, nyk.result, sas.status) == ("no", "yes", "finalized")
    assert sas.event_ticker == "KXNBAGAME-26JUN13NYKSAS"
    assert (sas.yes_sub_title, nyk.yes_sub_title) == ("San Antonio", "New York")
    assert sas.close_time == datetime(2026, 6, 14, 3, 31, 47, tzinfo=UTC)
    assert page.cursor and page.cursor.startswith("CgwI")


def test_event_has_its_subtitle_and_markets(zane: Path) -> None:
    doc = parse(EventDoc, (zane / "kalshi_event.json").read_bytes(), "event")
    assert doc.event.event_ticker == "KXNBAGAME-26JUN13NYKSAS"
    assert doc.event.sub_title == "NYK at SAS (Jun 13)"
    assert doc.event.series_ticker == "KXNBAGAME"
    assert [m.ticker for m in doc.all_markets] == [SAS, NYK]


def test_orderbook_bids_only_and_the_yes_ask_follows_from_the_no_bid(zane: Path) -> None:
    book = parse(Orderbook, (zane / "kalshi_orderbook.json").read_bytes(), "orderbook")
    assert [level.price for level in book.yes] == [
        Decimal(p) for p in ("0.66", "0.67", "0.68", "0.69", "0.70")
    ]
    assert book.best_yes_bid == Decimal("0.70")
    assert book.best_no_bid == Decimal("0.29")
    assert book.best_yes_ask == Decimal("0.71")
    assert book.best_no_ask == Decimal("0.30")
    assert book.no[-1].count == Decimal("80390.47")


def test_orderbook_three_shapes_agree(brianlee: dict[str, Any]) -> None:
    raw = brianlee["raw_ob"]
    fixed = parse(Orderbook, raw, "orderbook")
    legacy = raw["orderbook"]
    dollars_only = parse(
        Orderbook, {"orderbook": {k: v for k, v in legacy.items() if k.endswith("dollars")}}, "ob"
    )
    cents_only = parse(
        Orderbook, {"orderbook": {"yes": legacy["yes"], "no": legacy["no"]}}, "orderbook"
    )
    assert fixed == dollars_only == cents_only
    assert fixed.best_yes_bid == Decimal("0.99")
    assert fixed.no == [] and fixed.best_yes_ask is None  # nobody bids on no: no yes ask
    assert parse(Orderbook, {"orderbook": {"yes": None, "no": None}}, "ob").yes == []


def test_candlesticks_hourly_with_bid_ask_and_price(zane: Path) -> None:
    doc = parse(Candlesticks, (zane / "kalshi_candlesticks.json").read_bytes(), "candles")
    assert doc.ticker == SAS
    ends = [c.end for c in doc.candlesticks]
    assert ends == [
        datetime(2026, 6, 12, 22, tzinfo=UTC),
        datetime(2026, 6, 12, 23, tzinfo=UTC),
        datetime(2026, 6, 13, 0, tzinfo=UTC),
    ]
    first = doc.candlesticks[0]
    assert (first.yes_bid.close, first.yes_ask.close) == (Decimal("0.64"), Decimal("0.65"))
    assert first.price.mean == Decimal("0.6498")
    assert first.volume == Decimal("73570.84")
    assert first.open_interest == Decimal("1558910.90")


def test_trades_with_cursor(zane: Path) -> None:
    page = parse(TradesPage, (zane / "kalshi_trades.json").read_bytes(), "trades")
    assert len(page.trades) == 3
    assert {t.yes_price for t in page.trades} == {Decimal("0.01")}
    assert {t.no_price for t in page.trades} == {Decimal("0.99")}
    assert [t.count for t in page.trades] == [Decimal("93.51"), Decimal("93.51"), Decimal("22.07")]
    assert page.trades[0].created_time == datetime(2026, 6, 14, 3, 30, 45, 993203, tzinfo=UTC)
    assert page.cursor


def test_legacy_cents_agree_with_dollars_on_the_march_2026_schema(
    brianlee: dict[str, Any],
) -> None:
    names = ("yes_bid", "yes_ask", "no_bid", "no_ask", "last_price", "previous_price")
    for raw in brianlee["soccer_markets_sample"]:
        both = parse(Market, raw, "market")
        cents_only = parse(Market, {k: v for k, v in raw.items() if "_dollars" not in k}, "m")
        for name in names:
            exact, rounded = getattr(both, name), getattr(cents_only, name)
            assert exact == Decimal(raw[f"{name}_dollars"])  # the dollar string wins
            # deci-cent markets ("0.3460") are truncated to whole cents (34) in the legacy field
            assert abs(exact - rounded) < Decimal("0.01"), (raw["ticker"], name)
        assert both.volume == cents_only.volume == Decimal(raw["volume"])


def test_a_cents_only_market_reads_as_dollars() -> None:
    market = parse(
        Market,
        {"ticker": "T", "yes_bid": 56, "yes_ask": 58, "last_price": 57, "volume": 1200},
        "market",
    )
    assert (market.yes_bid, market.yes_ask, market.last_price) == (
        Decimal("0.56"),
        Decimal("0.58"),
        Decimal("0.57"),
    )
    assert market.volume == 1200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>busy</html>", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"cursor": ""}', "markets"),
        (b'{"markets": [{"ticker": "T", "yes_bid_dollars": "lots"}]}', "yes_bid"),
        (b'{"markets": [{"ticker": "T", "last_price_dollars": "1.50"}]}', "last_price"),
        (b'{"markets": [{"ticker": "T", "yes_bid": "56"}]}', "yes_bid"),
        (b'{"markets": [{"ticker": "T", "volume_fp": "-3"}]}', "volume"),
    ],
)
def test_bad_bodies_raise_upstream_data_errors(body: bytes, words: str) -> None:
    with pytest.raises(UpstreamDataError, match=words):
        parse(MarketsPage, body, "markets")


def test_bad_orderbook_levels_are_refused() -> None:
    with pytest.raises(UpstreamDataError, match="order book"):
        parse(Orderbook, {"orderbook_fp": {"yes_dollars": [["0.5"]]}}, "order book")
    with pytest.raises(UpstreamDataError, match="orderbook"):
        parse(Orderbook, {"book": {}}, "order book")


def test_websocket_ticker_and_trade_messages() -> None:
    frame = parse(
        Frame,
        json.dumps(
            {
                "type": "ticker",
                "sid": 1,
                "msg": {
                    "market_ticker": SAS,
                    "price": 64,
                    "yes_bid": 63,
                    "yes_ask": 65,
                    "price_dollars": "0.6400",
                    "yes_bid_dollars": "0.6300",
                    "yes_ask_dollars": "0.6500",
                    "volume": 73570,
                    "open_interest": 1558910,
                    "ts": 1781301600,
                },
            }
        ),
        "frame",
    )
    assert (frame.type, frame.sid, frame.seq) == ("ticker", 1, None)
    ticker = parse(TickerMessage, frame.msg, "ticker")
    assert (ticker.price, ticker.yes_bid, ticker.yes_ask) == (
        Decimal("0.64"),
        Decimal("0.63"),
        Decimal("0.65"),
    )
    assert ticker.ts == datetime(2026, 6, 12, 22, tzinfo=UTC)
    trade = parse(
        TradeMessage,
        {"market_ticker": NYK, "yes_price": 36, "no_price": 64, "count": 5, "ts": 1781301600},
        "trade",
    )
    assert (trade.yes_price, trade.no_price, trade.count) == (
        Decimal("0.36"),
        Decimal("0.64"),
        Decimal(5),
    )
    with pytest.raises(UpstreamDataError, match="frame"):
        parse(Frame, b'{"sid": 1}', "frame")


def test_rsa_pss_signatures_sign_timestamp_method_and_path(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = load_public_key(pem)
    signer = KalshiSigner("key-1", key)
    at = datetime(2023, 12, 21, 1, 50, 56, 789000, tzinfo=UTC)
    headers = signer.headers("GET", WS_PATH + "?x=1", at)
    assert headers["KALSHI-ACCESS-KEY"] == "key-1"
    assert headers["KALSHI-ACCESS-TIMESTAMP"] == "1703123456789"
    assert signed_message("1703123456789", "get", "/trade-api/v2/portfolio/balance?a=b") == (
        b"1703123456789GET/trade-api/v2/portfolio/balance"
    )
    assert verify(public, headers, "GET", WS_PATH) is None
    assert verify(public, headers, "POST", WS_PATH) == "invalid signature"
    tampered = {**headers, "KALSHI-ACCESS-TIMESTAMP": "1703123456790"}
    assert verify(public, tampered, "GET", WS_PATH) == "invalid signature"
    assert verify(public, {**headers, "KALSHI-ACCESS-SIGNATURE": "!!"}, "GET", WS_PATH)
    assert verify(public, {}, "GET", WS_PATH) == "missing authentication headers"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verify(public, KalshiSigner("k", other).headers("GET", WS_PATH, at), "GET", WS_PATH)


def test_configured_signer(tmp_path: Path) -> None:
    assert configured_signer("", "") is None
    with pytest.raises(ConfigError, match="both"):
        configured_signer("key-1", "")
    with pytest.raises(ConfigError, match="cannot read"):
        configured_signer("key-1", str(tmp_path / "missing.pem"))
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="PEM"):
        configured_signer("key-1", str(tmp_path / "bad.pem"))
