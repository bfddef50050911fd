"""Market events in the log: their keys, the snapshot's fold, and the tracker ignoring them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.domain.market import GameMarkets, MarketPoint, Side, point
from pressbox.domain.market_events import (
    MarketState,
    MarketStatus,
    last_market_status,
    market_event,
    market_gap,
    market_status_event,
    market_summary,
)
from pressbox.domain.snapshot import GameState
from pressbox.domain.tracker import Tracker
from pressbox.runtime import websocket_url
from pressbox.streaming.market import market_game

EVENT = "KXNBAGAME-25MAY31NYKIND"
MARKETS = GameMarkets(EVENT, f"{EVENT}-IND", f"{EVENT}-NYK", "kalshi")
T0 = datetime(2025, 6, 1, 0, 10, 3, 250_000, tzinfo=UTC)


def away_point(bid: str, ask: str, at: datetime = T0) -> MarketPoint:
    return point(MARKETS.away_ticker, Side.AWAY, at, Decimal(bid), Decimal(ask), None, Decimal(100))


def stored(events: list[Event]) -> list[StoredEvent]:
    return [StoredEvent(i, e.type, e.key, e.at, e.data) for i, e in enumerate(events, start=1)]


def test_a_market_event_carries_the_point_and_the_home_probability() -> None:
    event = market_event(away_point("0.40", "0.44"), T0 + timedelta(seconds=1))
    assert event.type is EventType.MARKET
    assert event.data == {
        "ticker": f"{EVENT}-NYK",
        "time": "2025-06-01T00:10:03Z",
        "side": "away",
        "bid": 0.40,
        "ask": 0.44,
        "last": None,
        "implied_home": pytest.approx(0.58),
        "volume": 100.0,
    }


def test_the_market_key_is_the_same_for_a_re_read_and_differs_with_the_price() -> None:
    first = market_event(away_point("0.40", "0.44"), T0)
    again = market_event(away_point("0.40", "0.44"), T0 + timedelta(minutes=5))
    moved = market_event(away_point("0.41", "0.44"), T0)
    later = market_event(away_point("0.40", "0.44", T0 + timedelta(seconds=30)), T0)
    assert first.key == again.key  # observed later, same point: one event in the log
    assert len({first.key, moved.key, later.key}) == 3


def test_status_changes_only_with_its_state_or_event() -> None:
    live = MarketStatus.of(MarketState.LIVE, MARKETS)
    assert live.changes(None)
    assert not MarketStatus.of(MarketState.LIVE, MARKETS, "another reason").changes(live)
    assert MarketStatus.of(MarketState.STALE, MARKETS, "Kalshi down").changes(live)
    assert MarketStatus.from_json(live.to_json()) == live
    assert live.to_json() == {
        "state": "live",
        "event_ticker": EVENT,
        "tickers": [f"{EVENT}-IND", f"{EVENT}-NYK"],
        "source": "kalshi",
        "reason": None,
        "notes": [],  # a real market says nothing of itself
    }
    absent = MarketStatus.of(MarketState.ABSENT, None, "no market")
    assert absent.to_json()["tickers"] == [] and absent.to_json()["source"] is None


def test_a_market_that_comes_back_logs_live_again_under_a_new_key() -> None:
    live = market_status_event(MarketStatus.of(MarketState.LIVE, MARKETS), T0)
    back = market_status_event(MarketStatus.of(MarketState.LIVE, MARKETS), T0 + timedelta(1))
    assert live.key != back.key


def test_game_state_folds_market_points_and_the_last_status() -> None:
    events = stored(
        [
            market_status_event(MarketStatus.of(MarketState.LIVE, MARKETS), T0),
            market_event(away_point("0.40", "0.44"), T0),
            market_event(away_point("0.30", "0.34", T0 + timedelta(seconds=9)), T0),
            market_status_event(MarketStatus.of(MarketState.STALE, MARKETS, "down"), T0),
        ]
    )
    state = GameState.fold(events)
    body = state.to_json()
    assert body["seq"] == 4
    assert [p["bid"] for p in body["market"]] == [0.40, 0.30]
    assert body["market_status"]["state"] == "stale"
    assert body["market_status"]["reason"] == "down"
    assert GameState().to_json()["market"] == [] and GameState().to_json()["market_status"] is None
    found = last_market_status(events)
    assert found is not None and found.state is MarketState.STALE


def test_the_tracker_restore_ignores_market_events() -> None:
    events = stored(
        [
            market_status_event(MarketStatus.of(MarketState.LIVE, MARKETS), T0),
            market_event(away_point("0.40", "0.44"), T0),
        ]
    )
    tracker = Tracker()
    tracker.restore(events)
    assert tracker.status is None and tracker.phase is None


def test_a_game_row_becomes_a_market_game_or_says_why_not() -> None:
    row = {
        "id": "401772994",
        "league": "nba",
        "start_time": "2025-06-01T00:00:00Z",
        "home": {"abbreviation": "IND", "name": "Indiana Pacers"},
        "away": {"abbreviation": "NY", "name": "New York Knicks"},
    }
    game = market_game(row)
    assert (game.home, game.away, game.series) == ("IND", "NY", "KXNBAGAME")
    assert game.day.isoformat() == "2025-05-31"  # the Eastern date of the tickers
    with pytest.raises(ValueError, match="start time"):
        market_game({**row, "start_time": None})
    with pytest.raises(ValueError, match="no Kalshi series"):
        market_game({**row, "league": "nhl"})


def test_the_websocket_url_follows_the_rest_url() -> None:
    assert (
        websocket_url("http://127.0.0.1:9000/trade-api/v2") == "ws://127.0.0.1:9000/trade-api/ws/v2"
    )
    assert websocket_url("https://k.test/trade-api/v2/") == "wss://k.test/trade-api/ws/v2"


def test_the_summary_market_folds_the_last_status_and_the_last_point() -> None:
    assert market_summary(None, []) is None
    early = market_event(away_point("0.40", "0.44"), T0)  # a point before any status
    first = market_summary(None, stored([early]))
    assert first is not None and first["state"] is None
    assert first["implied_home"] == pytest.approx(0.58)
    live = market_status_event(MarketStatus.of(MarketState.LIVE, MARKETS), T0)
    after = market_summary(first, stored([live]))
    assert after == {**first, "state": "live", "reason": None, "event_ticker": EVENT}
    assert first["state"] is None  # the previous summary is not changed


def test_the_gap_pairs_each_espn_point_with_the_last_price_before_it() -> None:
    def probability(minute: int, home: float) -> Event:
        data = {"id": str(minute), "home": home, "away": 1 - home, "tie": 0.0}
        moment = T0 + timedelta(minutes=minute)
        return Event(
            EventType.PROBABILITY, f"p{minute}", moment, {**data, "time": moment.isoformat()}
        )

    def price(minute: int, bid: str, ask: str) -> Event:
        return market_event(away_point(bid, ask, T0 + timedelta(minutes=minute)), T0)

    events = [
        probability(0, 0.50),  # before any price: not compared
        price(1, "0.40", "0.44"),  # the away market: home 0.58
        probability(2, 0.60),  # |0.60 - 0.58|
        price(3, "0.20", "0.24"),  # home 0.78
        probability(3, 0.70),  # a price of the same time counts: |0.70 - 0.78|
        probability(9, 0.90),  # the price stood: |0.90 - 0.78|
    ]
    gap = market_gap(stored(events))
    assert gap.compared == 3
    assert gap.mean_abs == pytest.approx((0.02 + 0.08 + 0.12) / 3)
    assert gap.to_json() == {"compared": 3, "mean_abs_gap": 0.0733}
    assert market_gap(stored(events[:1])).to_json() == {"compared": 0, "mean_abs_gap": None}
