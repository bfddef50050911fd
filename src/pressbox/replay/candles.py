"""Recorded Kalshi candles of one market, read from a file: a replay source for the fake Kalshi.

Two formats, told apart by content:

- a **candle CSV** with the columns `ticker,timestamp,open,high,low,close,volume` (others, such as
  `game_id` and `datetime`, are ignored), one row per period: `timestamp` is the candle's
  `end_period_ts` (Unix seconds, UTC), prices are last-trade **cents**, `volume` contracts; a
  period without a trade has empty prices (and volume 0). This is how scripts save Kalshi's
  one-minute candlesticks (`recordings/kalshi/plourr03-in-game-trading/`);
- Kalshi's own **candlestick JSON**, the answer of
  `GET /series/{series}/markets/{ticker}/candlesticks`: `{ticker, candlesticks: [{end_period_ts,
  price, yes_bid, yes_ask, volume, open_interest}]}`, prices in cents or `*_dollars` strings.

Prices are kept in cents, as Kalshi gives them (a dollar string is converted exactly); nothing is
filled in: a period without a trade has no price, and the yes bid and ask are known only where the
file has them (the CSV has none). Every row is validated here: a malformed one raises
`RecordingError` naming the file and the line (CSV) or the candle (JSON).
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any

from pressbox.domain.kalshi import Candlesticks, Ohlc, parse
from pressbox.domain.market import event_day
from pressbox.errors import RecordingError, UpstreamDataError
from pressbox.replay.jsonfile import decode_json, read_file

SUPPORTED_MARKET_FORMATS = (
    "Kalshi candle CSV (columns ticker,timestamp,open,high,low,close,volume; timestamp is the "
    "candle's end_period_ts in Unix seconds, prices in cents, empty prices for a period without "
    "a trade), Kalshi candlestick JSON ({ticker, candlesticks: [{end_period_ts, price, yes_bid, "
    "yes_ask, volume}]}, as GET /series/{s}/markets/{t}/candlesticks answers)"
)
CSV_COLUMNS = ("ticker", "timestamp", "open", "high", "low", "close", "volume")
#: Candle periods Kalshi serves (`period_interval`: 1, 60, 1440 minutes), in seconds.
PERIODS = (60, 3600, 86400)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Prices:
    """Open, high, low and close of one candle, in cents (any may be unknown)."""

    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal | None

    def complement(self) -> Prices:
        """The other side's prices, 100 − these (high and low trade places)."""
        return Prices(_minus(self.open), _minus(self.low), _minus(self.high), _minus(self.close))


@dataclass(frozen=True, slots=True)
class RecordedCandle:
    """One period of a market: its trades (`price`: None without a trade), its book's yes bid
    and ask where recorded, and the contracts traded."""

    end: datetime
    price: Prices | None
    yes_bid: Prices | None = None
    yes_ask: Prices | None = None
    volume: Decimal | None = None
    open_interest: Decimal | None = None

    @property
    def priced(self) -> bool:
        """Whether the period had a trade (a last price)."""
        return self.price is not None and self.price.close is not None


@dataclass(frozen=True)
class MarketCandles:
    """A market's recorded candles, ascending by end; `derived_from` names the recorded market
    these were computed from (None: recorded)."""

    ticker: str
    period: timedelta
    candles: tuple[RecordedCandle, ...]
    source: str
    derived_from: str | None = None

    @cached_property
    def _ends(self) -> list[datetime]:
        return [c.end for c in self.candles]

    @property
    def event_ticker(self) -> str:
        """The event the market belongs to (`…NYKIND-NYK` -> `…NYKIND`)."""
        return self.ticker.rsplit("-", 1)[0]

    @property
    def team(self) -> str:
        """The team the market's yes pays on (its ticker's last part)."""
        return self.ticker.rsplit("-", 1)[1]

    @property
    def priced(self) -> list[RecordedCandle]:
        """The candles with a trade."""
        return [c for c in self.candles if c.priced]

    def until(self, moment: datetime) -> tuple[RecordedCandle, ...]:
        """The candles ended at or before `moment`: what Kalshi could say then."""
        return self.candles[: bisect_right(self._ends, moment)]

    def as_of(self, moment: datetime) -> MarketState:
        """What the candles say of the market at `moment` (those ended by then)."""
        count = bisect_right(self._ends, moment)
        return MarketState(
            count,
            self._last_priced[count],
            self._last_quoted[count],
            self._volumes[count],
        )

    def price_at(self, moment: datetime) -> Decimal | None:
        """The last trade price (cents) as known at `moment`: the close of the last candle with
        a trade ended by then; None before the first trade."""
        return self.as_of(moment).last_price

    @cached_property
    def _last_priced(self) -> list[RecordedCandle | None]:
        """[i]: the last candle with a trade among the first i."""
        return _running(self.candles, lambda c: c.priced)

    @cached_property
    def _last_quoted(self) -> list[RecordedCandle | None]:
        """[i]: the last candle with a yes bid or ask among the first i."""
        return _running(self.candles, lambda c: c.yes_bid is not None or c.yes_ask is not None)

    @cached_property
    def _volumes(self) -> list[Decimal | None]:
        """[i]: the contracts traded in the first i candles (None: no volume recorded)."""
        if all(c.volume is None for c in self.candles):
            return [None] * (len(self.candles) + 1)
        total = Decimal(0)
        sums: list[Decimal | None] = [total]
        for candle in self.candles:
            total += candle.volume or 0
            sums.append(total)
        return sums

    def shifted(self, delta: timedelta, ticker: str | None = None) -> MarketCandles:
        """The same candles `delta` later (the replay moved the game), under `ticker` if given."""
        moved = tuple(replace(c, end=c.end + delta) for c in self.candles)
        return replace(self, ticker=ticker or self.ticker, candles=moved)

    def complement(self, ticker: str) -> MarketCandles:
        """The other team's market derived from this one: prices 100 − these, its yes bid 100 −
        this yes ask (and the reverse); its volume is unknown."""
        candles = tuple(
            RecordedCandle(
                c.end,
                c.price and c.price.complement(),
                c.yes_ask and c.yes_ask.complement(),
                c.yes_bid and c.yes_bid.complement(),
            )
            for c in self.candles
        )
        return MarketCandles(ticker, self.period, candles, self.source, derived_from=self.ticker)


@dataclass(frozen=True, slots=True)
class MarketState:
    """A market as its candles tell it at one moment: how many candles had ended, the last with
    a trade, the last with a quote, and the contracts traded within the recording so far."""

    count: int
    last_trade: RecordedCandle | None
    last_quote: RecordedCandle | None
    volume: Decimal | None

    @property
    def last_price(self) -> Decimal | None:
        """The last trade's price in cents."""
        trade = self.last_trade
        return None if trade is None or trade.price is None else trade.price.close

    @property
    def yes_bid(self) -> Decimal | None:
        quote = self.last_quote
        return None if quote is None or quote.yes_bid is None else quote.yes_bid.close

    @property
    def yes_ask(self) -> Decimal | None:
        quote = self.last_quote
        return None if quote is None or quote.yes_ask is None else quote.yes_ask.close


def _running(
    candles: Sequence[RecordedCandle], keep: Callable[[RecordedCandle], bool]
) -> list[RecordedCandle | None]:
    """[i]: the last of the first i candles that `keep` accepts (None: none)."""
    found: list[RecordedCandle | None] = [None]
    for candle in candles:
        found.append(candle if keep(candle) else found[-1])
    return found


def load_candles(path: Path) -> MarketCandles:
    """Read one market's candles from a candle CSV or a candlestick JSON (told by content).

    Raises:
        RecordingError: the file is missing, unreadable, of another format, or holds a malformed
            row; the message names the file (and the line or candle) and the supported formats.
    """
    raw = read_file(path, "Kalshi market file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordingError(
            f"{path}: not a text file; supported: {SUPPORTED_MARKET_FORMATS}"
        ) from exc
    is_json = text.lstrip().startswith("{")
    if is_json:
        return _checked(path, _from_json(path, decode_json(path, raw, SUPPORTED_MARKET_FORMATS)))
    return _checked(path, _from_csv(path, text))


def _from_csv(path: Path, text: str) -> MarketCandles:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RecordingError(
            f"{path}: not a Kalshi candle CSV (no column {', '.join(missing)}); "
            f"supported: {SUPPORTED_MARKET_FORMATS}"
        )
    tickers: set[str] = set()
    candles = []
    for row in reader:
        where = f"{path}, line {reader.line_num}"
        if None in row or any(row[c] is None for c in CSV_COLUMNS):
            raise RecordingError(f"{where}: expected {len(reader.fieldnames or [])} fields")
        tickers.add(row["ticker"].strip())
        if len(tickers) > 1:
            raise RecordingError(f"{where}: another market ({row['ticker']!r}) in the same file")
        candles.append(_csv_candle(row, where))
    if not candles:
        raise RecordingError(f"{path}: a Kalshi candle CSV without a row")
    return MarketCandles(tickers.pop(), _period(path, candles), tuple(candles), str(path))


def _csv_candle(row: dict[str, str], where: str) -> RecordedCandle:
    try:
        end = _unix(row["timestamp"])
        values = [_cents(row[name], name) for name in ("open", "high", "low", "close")]
        volume = _count(row["volume"])
    except ValueError as exc:
        raise RecordingError(f"{where}: {exc}") from None
    if all(v is None for v in values):
        if volume:
            raise RecordingError(f"{where}: a volume of {volume} without a price")
        return RecordedCandle(end, None, volume=volume)
    if any(v is None for v in values):
        raise RecordingError(f"{where}: open, high, low and close must be all given or all empty")
    prices = Prices(*values)
    _check_range(prices, where)
    return RecordedCandle(end, prices, volume=volume)


def _from_json(path: Path, document: Any) -> MarketCandles:
    if not isinstance(document, dict) or "candlesticks" not in document:
        raise RecordingError(
            f"{path}: not a Kalshi candlestick document (no candlesticks); "
            f"supported: {SUPPORTED_MARKET_FORMATS}"
        )
    try:
        parsed = parse(Candlesticks, document, "candlesticks")
    except UpstreamDataError as exc:
        raise RecordingError(f"{path}: {exc}") from exc
    if not parsed.ticker:
        raise RecordingError(f"{path}: the candlestick document names no market (no ticker)")
    candles = []
    for index, candle in enumerate(parsed.candlesticks):
        found = RecordedCandle(
            candle.end,
            _prices(candle.price),
            _prices(candle.yes_bid),
            _prices(candle.yes_ask),
            candle.volume,
            candle.open_interest,
        )
        if found.price is not None:
            _check_range(found.price, f"{path}, candle {index + 1}")
        candles.append(found)
    if not candles:
        raise RecordingError(f"{path}: a candlestick document without a candle")
    return MarketCandles(parsed.ticker, _period(path, candles), tuple(candles), str(path))


def _prices(ohlc: Ohlc) -> Prices | None:
    """Dollars -> cents; None when the period says nothing (no trade, or no quote)."""
    values = [ohlc.open, ohlc.high, ohlc.low, ohlc.close]
    if all(v is None for v in values):
        return None
    return Prices(*(None if v is None else v * HUNDRED for v in values))


def _checked(path: Path, candles: MarketCandles) -> MarketCandles:
    """The candles, once their ticker is a market of a known event and their ends ascend."""
    ticker = candles.ticker
    if "-" not in ticker or event_day(candles.event_ticker) is None or not candles.team:
        raise RecordingError(
            f"{path}: {ticker!r} is not a Kalshi game market ticker "
            "(such as KXNBAGAME-25MAY31NYKIND-NYK)"
        )
    for before, after in zip(candles.candles, candles.candles[1:], strict=False):
        if after.end <= before.end:
            raise RecordingError(
                f"{path}: candles out of order: {after.end:%Y-%m-%dT%H:%M:%SZ} after "
                f"{before.end:%Y-%m-%dT%H:%M:%SZ}"
            )
    return candles


def _period(path: Path, candles: list[RecordedCandle]) -> timedelta:
    """The candles' period: the shortest step between two ends (one candle: a minute)."""
    steps = [(b.end - a.end).total_seconds() for a, b in zip(candles, candles[1:], strict=False)]
    shortest = min((s for s in steps if s > 0), default=60.0)
    if shortest not in PERIODS:
        raise RecordingError(
            f"{path}: candles {shortest:g} s apart; Kalshi's periods are 1, 60 and 1440 minutes"
        )
    return timedelta(seconds=shortest)


def _unix(value: str) -> datetime:
    text = value.strip()
    if not text.isdigit():
        raise ValueError(f"timestamp must be Unix seconds, got {value!r}")
    return datetime.fromtimestamp(int(text), UTC)


def _cents(value: str, name: str) -> Decimal | None:
    text = value.strip()
    if not text:
        return None
    amount = _decimal(text, name)
    if not 0 <= amount <= HUNDRED:
        raise ValueError(f"{name} must be a price in cents within 0..100, got {value!r}")
    return amount


def _count(value: str) -> Decimal:
    amount = _decimal(value.strip() or "0", "volume")
    if amount < 0:
        raise ValueError(f"volume must not be negative, got {value!r}")
    return amount


def _decimal(text: str, what: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {text!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not a number: {text!r}")
    return amount


def _check_range(prices: Prices, where: str) -> None:
    known = [p for p in (prices.open, prices.close) if p is not None]
    low, high = prices.low, prices.high
    if low is not None and high is not None and not all(low <= p <= high for p in known):
        raise RecordingError(f"{where}: open and close must lie between low and high")


def _minus(value: Decimal | None) -> Decimal | None:
    return None if value is None else HUNDRED - value
