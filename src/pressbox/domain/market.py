"""Game <-> Kalshi market mapping and price math. Pure: no I/O.

Kalshi lists one event per game and one binary market per team ("will this team win?"):
event `KXNBAGAME-26JUN13NYKSAS` (New York at San Antonio, 2026-06-13, US Eastern; away first),
markets `…-NYK` and `…-SAS`. A game is matched to its markets, in order of trust:

1. an explicit override (`PRESSBOX_KALSHI_MARKETS`: ESPN game id -> event ticker);
2. Kalshi's own data: an event of the game's series on the game's Eastern date whose markets name
   the two teams (by ticker suffix, or by `yes_sub_title` against ESPN's team names);
3. a guess from the date and the abbreviations, translated from ESPN's to Kalshi's per league.

The implied home-win probability is read from whichever side's market is at hand: the home
market's yes price directly, the away market's as 1 − it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pressbox.domain.kalshi import Candle, Market, TickerMessage, Trade, TradeMessage
from pressbox.domain.schedule import EASTERN
from pressbox.domain.scoreboard import BoardGame

#: The Kalshi game-winner series of each supported ESPN league slug.
SERIES: dict[str, str] = {
    "nba": "KXNBAGAME",
    "nfl": "KXNFLGAME",
    "college-football": "KXNCAAFGAME",
}

#: ESPN abbreviation -> Kalshi's, where they differ. ESPN's come from the recorded scoreboards
#: (nba_scoreboard_20241215: GS, NY, SA, NO, WSH, PHX); Kalshi uses the leagues' own codes
#: (recorded: NYK, SAS). Teams missing here use the same code on both sides.
ESPN_TO_KALSHI: dict[str, dict[str, str]] = {
    "nba": {
        "GS": "GSW",
        "NY": "NYK",
        "SA": "SAS",
        "NO": "NOP",
        "UTAH": "UTA",
        "WSH": "WAS",
    },
    # Seen only in third-party tickers (no recording): JAC for Jacksonville, LA for the Rams.
    "nfl": {"JAX": "JAC", "WSH": "WAS", "LAR": "LA"},
    # Kalshi's college codes differ from ESPN's in no pattern we could verify; matching relies on
    # Kalshi's markets (team names) and on the override.
    "college-football": {},
}

#: Every Kalshi NBA code: splits an event's team part (`NYKSAS`) without its markets.
_NBA_CODES = (
    "ATL BOS BKN CHA CHI CLE DAL DEN DET GSW HOU IND LAC LAL MEM MIA MIL MIN NOP NYK OKC ORL"
)
KALSHI_TEAMS: dict[str, frozenset[str]] = {
    "nba": frozenset(f"{_NBA_CODES} PHI PHX POR SAC SAS TOR UTA WAS".split()),
}

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_EVENT = re.compile(
    r"^(?P<series>KX[A-Z0-9]+)-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?P<time>\d{4})?"
    r"(?P<teams>[A-Z][A-Z0-9-]*)$"
)

#: A bid/ask spread wider than this says little: the last trade is read instead.
MAX_SPREAD = Decimal("0.10")


class Side(StrEnum):
    """Which team a market's yes pays out on."""

    HOME = "home"
    AWAY = "away"


@dataclass(frozen=True)
class EventTicker:
    """A parsed event ticker: series, Eastern date, optional start time, away and home codes."""

    series: str
    date: date
    away: str
    home: str
    time: str = ""

    def __str__(self) -> str:
        day = f"{self.date:%y}{_MONTHS[self.date.month - 1]}{self.date:%d}"
        return f"{self.series}-{day}{self.time}{self.away}{self.home}"

    def market(self, team: str) -> str:
        """The ticker of `team`'s market in this event."""
        return f"{self}-{team}"


def is_event_ticker(value: str) -> bool:
    """Whether `value` is shaped like a Kalshi event ticker (`KXNBAGAME-26JUN13NYKSAS`)."""
    return value == value.strip().upper() and event_day(value) is not None


def parse_event_ticker(ticker: str, teams: Iterable[str] = ()) -> EventTicker:
    """Read an event ticker. The team part is split at a known code: one of `teams` (e.g. the
    suffixes of its markets), else the league's codes, else in half when its length is even.

    Raises:
        ValueError: not an event ticker, a bad date, or teams that cannot be told apart.
    """
    match = _EVENT.match(ticker.strip().upper())
    found = event_day(ticker)
    if match is None or found is None:
        raise ValueError(f"not a Kalshi event ticker: {ticker!r}")
    series, day = found
    away, home = _split_teams(match["teams"], series, {t.upper() for t in teams})
    return EventTicker(series, day, away, home, match["time"] or "")


def event_day(ticker: str) -> tuple[str, date] | None:
    """The series and date of an event ticker, None if it is not one (its teams unread: college
    codes may even hold a hyphen)."""
    match = _EVENT.match(ticker.strip().upper())
    if match is None or match["mon"] not in _MONTHS:
        return None
    try:
        day = date(2000 + int(match["yy"]), _MONTHS.index(match["mon"]) + 1, int(match["dd"]))
    except ValueError:
        return None
    return match["series"], day


def _split_teams(text: str, series: str, hints: set[str]) -> tuple[str, str]:
    league = next((lg for lg, s in SERIES.items() if s == series), "")
    for known in (hints, KALSHI_TEAMS.get(league, frozenset())):
        splits = [(text[:i], text[i:]) for i in range(1, len(text))]
        both = [s for s in splits if s[0] in known and s[1] in known]
        if len(both) == 1:
            return both[0]
        one = [s for s in splits if s[0] in known or s[1] in known]
        if known is hints and len(one) == 1:
            return one[0]
    if len(text) % 2 == 0 and "-" not in text:
        half = len(text) // 2
        return text[:half], text[half:]
    raise ValueError(f"cannot tell the two teams apart in {text!r}")


def market_team(ticker: str) -> str:
    """The team code a market ticker ends with (`…NYKSAS-SAS` -> `SAS`)."""
    return ticker.rsplit("-", 1)[-1]


def kalshi_code(league: str, espn_abbreviation: str) -> str:
    """Kalshi's code of a team, from ESPN's abbreviation."""
    code = espn_abbreviation.strip().upper()
    return ESPN_TO_KALSHI.get(league, {}).get(code, code)


@dataclass(frozen=True)
class MarketGame:
    """What the mapping needs to know of an ESPN game."""

    id: str
    league: str
    start: datetime
    home: str  # ESPN abbreviations
    away: str
    home_name: str = ""  # ESPN display names ("San Antonio Spurs")
    away_name: str = ""

    @classmethod
    def of(cls, game: BoardGame) -> MarketGame:
        """From a game of an ESPN scoreboard."""
        return cls(
            game.id,
            game.league,
            game.start,
            game.home.abbreviation,
            game.away.abbreviation,
            game.home.name,
            game.away.name,
        )

    @property
    def day(self) -> date:
        """The game's US Eastern calendar date: the date in Kalshi's tickers."""
        return self.start.astimezone(EASTERN).date()

    @property
    def series(self) -> str:
        try:
            return SERIES[self.league]
        except KeyError:
            raise ValueError(f"no Kalshi series for league {self.league!r}") from None


@dataclass(frozen=True)
class GameMarkets:
    """A game's Kalshi event and its two team markets; `source` says how they were found."""

    event_ticker: str
    home_ticker: str
    away_ticker: str
    source: str  # "override", "kalshi" or "guess"
    #: What the markets' documents say of themselves beyond prices ("TICKER: note"), e.g. the
    #: replay server's word that it derived one market from the other.
    notes: tuple[str, ...] = ()

    @property
    def tickers(self) -> tuple[str, str]:
        return (self.home_ticker, self.away_ticker)

    def side_of(self, ticker: str) -> Side | None:
        """Which team `ticker`'s yes pays on, None if it is not one of this game's markets."""
        if ticker == self.home_ticker:
            return Side.HOME
        if ticker == self.away_ticker:
            return Side.AWAY
        return None


def guess_markets(game: MarketGame) -> GameMarkets:
    """The tickers built from the game's Eastern date and Kalshi codes (away first)."""
    home, away = kalshi_code(game.league, game.home), kalshi_code(game.league, game.away)
    event = EventTicker(game.series, game.day, away, home)
    return GameMarkets(str(event), event.market(home), event.market(away), "guess")


def override_markets(
    game: MarketGame, event_ticker: str, markets: Sequence[Market] = ()
) -> GameMarkets:
    """The configured event of a game; its markets say which is home when given, else the
    ticker's order does (away, home)."""
    found = _sides(game, [m for m in markets if m.event_ticker == event_ticker])
    if found is not None:
        return GameMarkets(
            event_ticker, found[0].ticker, found[1].ticker, "override", _notes(found)
        )
    parsed = parse_event_ticker(event_ticker, (market_team(m.ticker) for m in markets))
    return GameMarkets(
        event_ticker, parsed.market(parsed.home), parsed.market(parsed.away), "override"
    )


def match_game(game: MarketGame, markets: Iterable[Market]) -> GameMarkets | None:
    """The game's event among Kalshi's markets (e.g. `GET /markets?series_ticker=`): same series
    and Eastern date (read off the event ticker), both teams named by its markets (ticker suffix
    or `yes_sub_title`). Which team is home is ESPN's word, not the ticker's order."""
    by_event: dict[str, list[Market]] = {}
    for market in markets:
        by_event.setdefault(market.event_ticker, []).append(market)
    for event_ticker, group in by_event.items():
        if event_day(event_ticker) != (game.series, game.day):
            continue
        sides = _sides(game, group)
        if sides is not None:
            return GameMarkets(
                event_ticker, sides[0].ticker, sides[1].ticker, "kalshi", _notes(sides)
            )
    return None


def resolve_markets(
    game: MarketGame,
    markets: Iterable[Market] = (),
    *,
    override: str | None = None,
) -> GameMarkets:
    """The game's markets: the override, else Kalshi's data, else the guess."""
    listed = list(markets)
    if override:
        return override_markets(game, override, listed)
    return match_game(game, listed) or guess_markets(game)


def _notes(markets: Iterable[Market]) -> tuple[str, ...]:
    return tuple(f"{m.ticker}: {m.pressbox_note}" for m in markets if m.pressbox_note)


def _sides(game: MarketGame, group: Sequence[Market]) -> tuple[Market, Market] | None:
    """(home market, away market) of an event's markets, named by Kalshi code (the ticker's
    suffix) or else by `yes_sub_title`; None unless both teams are named, once each."""
    home_code, away_code = kalshi_code(game.league, game.home), kalshi_code(game.league, game.away)
    by_code = {market_team(m.ticker): m for m in group}
    if home_code != away_code and home_code in by_code and away_code in by_code:
        return by_code[home_code], by_code[away_code]
    home = _named(group, game.home_name)
    away = _named(group, game.away_name)
    if home is None or away is None or home is away:
        return None
    return home, away


def _named(group: Sequence[Market], espn_name: str) -> Market | None:
    """The one market whose `yes_sub_title` ("San Antonio") begins ESPN's team name."""
    name = espn_name.casefold()
    if not name:
        return None
    hits = [m for m in group if m.yes_sub_title and name.startswith(m.yes_sub_title.casefold())]
    return hits[0] if len(hits) == 1 else None


# --- prices -------------------------------------------------------------------------------------


def yes_price(bid: Decimal | None, ask: Decimal | None, last: Decimal | None) -> Decimal | None:
    """The market's probability of yes: the mid of a real, narrow book, else the last trade,
    else the mid of a wide one. A bid of 0 or an ask of 1 means that side of the book is empty."""
    book = _book(bid, ask)
    if book is not None and book[1] - book[0] <= MAX_SPREAD:
        return (book[0] + book[1]) / 2
    if last is not None and 0 < last < 1:
        return last
    if book is not None:
        return (book[0] + book[1]) / 2
    return last


def _book(bid: Decimal | None, ask: Decimal | None) -> tuple[Decimal, Decimal] | None:
    """(bid, ask) when both sides of the book hold orders."""
    if bid is None or ask is None or not 0 < bid <= ask < 1:
        return None
    return bid, ask


def implied_home(side: Side, yes: Decimal | None) -> Decimal | None:
    """The home team's win probability from one side's yes probability."""
    if yes is None:
        return None
    return yes if side is Side.HOME else 1 - yes


@dataclass(frozen=True, slots=True)
class MarketPoint:
    """One observation of a team market: its own yes bid, ask, last price and volume, and the
    home-win probability they imply. Prices are floats in 0..1 (JSON-ready)."""

    ticker: str
    time: datetime
    side: Side
    bid: float | None
    ask: float | None
    last: float | None
    implied_home: float | None
    volume: float | None

    def to_json(self) -> dict[str, Any]:
        """The data of a market event (a later `EventType`)."""
        return {
            "ticker": self.ticker,
            "time": self.time.isoformat(),
            "side": str(self.side),
            "bid": self.bid,
            "ask": self.ask,
            "last": self.last,
            "implied_home": self.implied_home,
            "volume": self.volume,
        }


def point(
    ticker: str,
    side: Side,
    time: datetime,
    bid: Decimal | None,
    ask: Decimal | None,
    last: Decimal | None,
    volume: Decimal | None,
) -> MarketPoint:
    """A MarketPoint from one market's yes prices."""
    home = implied_home(side, yes_price(bid, ask, last))
    return MarketPoint(ticker, time, side, _f(bid), _f(ask), _f(last), _f(home), _f(volume))


def point_of_market(market: Market, side: Side, time: datetime) -> MarketPoint:
    """A point from a REST market document (polling)."""
    return point(
        market.ticker, side, time, market.yes_bid, market.yes_ask, market.last_price, market.volume
    )


def point_of_ticker(message: TickerMessage, side: Side, time: datetime) -> MarketPoint:
    """A point from a WebSocket `ticker` message; `time` when it carries no `ts`."""
    return point(
        message.market_ticker,
        side,
        message.ts or time,
        message.yes_bid,
        message.yes_ask,
        message.price,
        message.volume,
    )


def point_of_trade(trade: Trade | TradeMessage, side: Side, time: datetime) -> MarketPoint:
    """A point from a trade: only its price (the last) is known."""
    ticker = trade.ticker if isinstance(trade, Trade) else trade.market_ticker
    at = (trade.created_time if isinstance(trade, Trade) else trade.ts) or time
    return point(ticker, side, at, None, None, trade.yes_price, None)


def point_of_candle(candle: Candle, ticker: str, side: Side) -> MarketPoint:
    """A point from a candlestick (a backfill): the closes of its yes bid, ask and trades at its
    end; no volume (a candle's is its period's, a point's the market's so far)."""
    return point(
        ticker,
        side,
        candle.end,
        candle.yes_bid.close,
        candle.yes_ask.close,
        candle.price.close,
        None,
    )


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
