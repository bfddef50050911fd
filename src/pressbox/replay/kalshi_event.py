"""A game's Kalshi event replayed from recorded candles: what the fake Kalshi (`replay/kalshi.py`)
answers for it at replay time t, in Kalshi's own shapes.

A `ReplayedEvent` pairs a finished game (`GameRecord`) with the recorded candles of one or both
of its team markets (`replay/candles.py`). A team market the recordings lack is **derived** from
the other one as 100 − its prices (yes bid and ask swapped) and says so on its documents
(`pressbox_derived_from`, `pressbox_note`). At replay time t:

- a market document holds what Kalshi could have said then: the last trade (the close of the last
  candle with a trade ended by t), the yes bid and ask of the last candle that recorded them (a
  candle CSV records none), the contracts traded within the recording so far;
- the candlesticks end at t: the recorded candles, unchanged (a period without a trade: no price);
- the WebSocket's `ticker` frames come at each candle's end that recorded a trade or a quote.

When the replay moves the game in time (`--stagger`), its candles move with it, and its event
ticker takes the game's new US Eastern date, as Kalshi would list a game played that day. Pure:
the caller passes t.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pressbox.clock import format_time
from pressbox.domain.market import (
    SERIES,
    EventTicker,
    MarketGame,
    guess_markets,
    market_team,
    parse_event_ticker,
)
from pressbox.domain.schedule import EASTERN
from pressbox.errors import RecordingError
from pressbox.replay.candles import HUNDRED, MarketCandles, Prices, RecordedCandle
from pressbox.replay.record import GameRecord

DERIVED_NOTE = "not recorded: derived as 100 − the prices of {source} (the other team's market)"


@dataclass(frozen=True)
class ReplayedEvent:
    """A replayed game's Kalshi event and its two team markets (recorded ones first)."""

    game_id: str
    event: EventTicker
    markets: tuple[MarketCandles, ...]
    away_name: str = ""  # ESPN's display names, for the titles
    home_name: str = ""
    #: The event ticker in the recordings (the replay may have moved the game to another date).
    recorded_event: str = ""

    @classmethod
    def of(cls, record: GameRecord, recorded: Sequence[MarketCandles]) -> ReplayedEvent:
        """The game's event from the candles of one or both of its markets; the missing side is
        derived. Raises RecordingError when a market is not one of the game's."""
        expected = game_event(record)
        teams = {expected.away, expected.home}
        found: dict[str, MarketCandles] = {}
        for candles in recorded:
            if not is_market_of(record, candles):
                raise RecordingError(
                    f"{candles.source}: market {candles.ticker} is not of game {record.id} "
                    f"({record.short_name or record.name}, whose event is {expected})"
                )
            if candles.team in found:
                raise RecordingError(
                    f"{candles.source}: market {candles.ticker} is given twice "
                    f"(also {found[candles.team].source})"
                )
            found[candles.team] = candles
        if not found:
            raise ValueError("no recorded market")
        first = next(iter(found.values()))
        event = parse_event_ticker(first.event_ticker, [first.team])
        for team in sorted(teams - set(found)):
            found[team] = first.complement(event.market(team))
        markets = tuple(sorted(found.values(), key=lambda m: m.derived_from is not None))
        return cls(record.id, event, markets, record.away.name, record.home.name, str(event))

    @property
    def event_ticker(self) -> str:
        return str(self.event)

    def moved(self, delta: timedelta, start: datetime) -> ReplayedEvent:
        """The event of the game moved `delta` later, now starting at `start`: candles moved
        with it, the event ticker dated by the game's new US Eastern date."""
        if not delta:
            return self
        event = replace(self.event, date=start.astimezone(EASTERN).date())
        markets = tuple(
            replace(
                m.shifted(delta, event.market(m.team)),
                derived_from=m.derived_from and event.market(market_team(m.derived_from)),
            )
            for m in self.markets
        )
        return replace(self, event=event, markets=markets)

    def market(self, ticker: str) -> MarketCandles | None:
        return next((m for m in self.markets if m.ticker == ticker), None)

    def describe(self) -> str:
        """One line for the console: which markets come from where."""
        parts = []
        for market in self.markets:
            if market.derived_from:
                parts.append(f"{market.ticker} derived as 100 − {market.derived_from}")
            else:
                parts.append(
                    f"{market.ticker} from {market.source} ({len(market.priced)} candles "
                    "with a trade)"
                )
        return f"game {self.game_id}: Kalshi event {self.event_ticker}: " + "; ".join(parts)

    # --- documents ------------------------------------------------------------------------------

    def event_doc(self, now: datetime) -> dict[str, Any]:
        """`GET /events/{event_ticker}` at `now`."""
        event = {
            "event_ticker": self.event_ticker,
            "series_ticker": self.event.series,
            "title": self._title,
            "sub_title": self._sub_title,
            "category": "Sports",
            "mutually_exclusive": True,
        }
        return {"event": event, "markets": self.market_docs(now)}

    def market_docs(self, now: datetime) -> list[dict[str, Any]]:
        """Every market's document at `now`, as `GET /markets` lists them."""
        return [self.market_doc(m, now) for m in self.markets]

    def market_doc(self, market: MarketCandles, now: datetime) -> dict[str, Any]:
        """`GET /markets/{ticker}` at `now` (its `market`)."""
        state = market.as_of(now)
        doc: dict[str, Any] = {
            "ticker": market.ticker,
            "event_ticker": self.event_ticker,
            "market_type": "binary",
            "title": self._title,
            "yes_sub_title": self._team_name(market.team),
            "no_sub_title": self._team_name(market.team),
            "status": _status(market, state.count),
            "open_time": format_time(market.candles[0].end - market.period),
            "close_time": format_time(market.candles[-1].end),
            "response_price_units": "usd_cent",
            **price_fields("last_price", state.last_price),
            **price_fields("yes_bid", state.yes_bid),
            **price_fields("yes_ask", state.yes_ask),
            **count_fields("volume", state.volume),
        }
        return {**doc, **_derived(market)}

    def candlesticks(
        self, market: MarketCandles, start: datetime, end: datetime, period: int, now: datetime
    ) -> dict[str, Any]:
        """`GET /series/{s}/markets/{t}/candlesticks` at `now`: the recorded candles ended
        within `start`..`end` and by `now`. Raises ValueError for another period (minutes)."""
        recorded = int(market.period.total_seconds() // 60)
        if period != recorded:
            raise ValueError(
                f"this replay recorded {recorded}-minute candles: period_interval={recorded}"
            )
        candles, previous = [], None
        for candle in market.until(min(end, now)):
            if candle.end >= start:
                candles.append(_candle_doc(candle, previous))
            if candle.priced and candle.price is not None:
                previous = candle.price.close
        return {"ticker": market.ticker, "candlesticks": candles}

    def ticker_frames(self) -> list[tuple[datetime, dict[str, Any]]]:
        """The `ticker` messages of the WebSocket and when each is sent: at the end of every
        candle that recorded a trade or a quote, in time order (recorded markets first)."""
        frames = []
        for market in self.markets:
            for candle in market.candles:
                if candle.priced or candle.yes_bid is not None or candle.yes_ask is not None:
                    state = market.as_of(candle.end)
                    message = {
                        "market_ticker": market.ticker,
                        **price_fields("price", state.last_price),
                        **price_fields("yes_bid", state.yes_bid),
                        **price_fields("yes_ask", state.yes_ask),
                        **count_fields("volume", state.volume),
                        "ts": int(candle.end.astimezone(UTC).timestamp()),
                    }
                    frames.append((candle.end, message))
        return sorted(frames, key=lambda frame: frame[0])

    @property
    def _title(self) -> str:
        away, home = self.away_name or self.event.away, self.home_name or self.event.home
        return f"{away} at {home} Winner?"

    @property
    def _sub_title(self) -> str:
        day = self.event.date
        return f"{self.event.away} at {self.event.home} ({day:%b} {day.day})"

    def _team_name(self, team: str) -> str:
        names = {self.event.away: self.away_name, self.event.home: self.home_name}
        return names.get(team) or team


def game_event(record: GameRecord) -> EventTicker:
    """The Kalshi event of a finished game, as the mapping builds it (its date and teams).

    Raises:
        RecordingError: the game's league has no Kalshi series.
    """
    if record.league not in SERIES:
        raise RecordingError(f"game {record.id}: no Kalshi series for league {record.league!r}")
    game = MarketGame(
        record.id,
        record.league,
        record.start_time,
        record.home.abbreviation,
        record.away.abbreviation,
    )
    guessed = guess_markets(game)
    return parse_event_ticker(guessed.event_ticker, [market_team(guessed.home_ticker)])


def is_market_of(record: GameRecord, candles: MarketCandles) -> bool:
    """Whether the candles are of one of the game's team markets: same series, date and teams
    (a start time in the ticker is ignored)."""
    if record.league not in SERIES:
        return False
    expected = game_event(record)
    try:
        found = parse_event_ticker(candles.event_ticker, [candles.team])
    except ValueError:
        return False
    same = (found.series, found.date, found.away, found.home)
    return same == (expected.series, expected.date, expected.away, expected.home) and (
        candles.team in (found.away, found.home)
    )


def price_fields(name: str, cents: Decimal | None) -> dict[str, Any]:
    """A price as Kalshi writes it: `name` in integer cents (legacy; only when whole) and
    `{name}_dollars` as a fixed-point dollar string; nothing when unknown."""
    if cents is None:
        return {}
    fields: dict[str, Any] = {f"{name}_dollars": f"{cents / HUNDRED:.4f}"}
    if cents == cents.to_integral_value():
        fields[name] = int(cents)
    return fields


def count_fields(name: str, count: Decimal | None) -> dict[str, Any]:
    """A contract count as Kalshi writes it: `name` (legacy integer, when whole) and `{name}_fp`
    (a fixed-point string); nothing when unknown."""
    if count is None:
        return {}
    fields: dict[str, Any] = {f"{name}_fp": f"{count:.2f}"}
    if count == count.to_integral_value():
        fields[name] = int(count)
    return fields


def _status(market: MarketCandles, ended: int) -> str:
    """Before the first candle: not open yet; after the last one: closed (the recording says
    nothing of settlement)."""
    if ended == 0:
        return "initialized"
    return "closed" if ended == len(market.candles) else "active"


def _derived(market: MarketCandles) -> dict[str, Any]:
    if market.derived_from is None:
        return {}
    return {
        "pressbox_derived_from": market.derived_from,
        "pressbox_note": DERIVED_NOTE.format(source=market.derived_from),
    }


def _candle_doc(candle: RecordedCandle, previous: Decimal | None) -> dict[str, Any]:
    """One candlestick in Kalshi's shape; unknown values are null."""
    doc: dict[str, Any] = {
        "end_period_ts": int(candle.end.astimezone(UTC).timestamp()),
        "price": {
            **_ohlc(candle.price),
            **_nulls("previous"),
            **price_fields("previous", previous),
        },
        "yes_bid": _ohlc(candle.yes_bid),
        "yes_ask": _ohlc(candle.yes_ask),
        **count_fields("volume", candle.volume),
        **count_fields("open_interest", candle.open_interest),
    }
    return doc


def _ohlc(prices: Prices | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("open", "high", "low", "close"):
        value = None if prices is None else getattr(prices, name)
        fields |= {**_nulls(name), **price_fields(name, value)}
    return fields


def _nulls(name: str) -> dict[str, Any]:
    return {name: None, f"{name}_dollars": None}
