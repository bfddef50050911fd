"""Kalshi Trade API v2 documents, validated at the boundary: markets, events, order books,
candlesticks, trades and the WebSocket's ticker and trade messages.

Kalshi is moving prices from integer cents (`yes_bid: 56`, deprecated) to fixed-point dollar
strings (`yes_bid_dollars: "0.5600"`, up to 6 decimals) and counts to `_fp` strings
(`volume_fp: "10.00"`). Both shapes are read into the same fields: prices are `Decimal` dollars
in 0..1 (the dollar string wins when both are sent: sub-cent markets round the cents), counts are
`Decimal` contracts. A body that is not the JSON we expect raises `UpstreamDataError`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pressbox.errors import UpstreamDataError

Price = Annotated[Decimal, Field(ge=0, le=1)]
Count = Annotated[Decimal, Field(ge=0)]

_MARKET_PRICES = (
    "yes_bid",
    "yes_ask",
    "no_bid",
    "no_ask",
    "last_price",
    "previous_price",
    "previous_yes_bid",
    "previous_yes_ask",
)
_MARKET_COUNTS = ("volume", "volume_24h", "open_interest", "yes_bid_size", "yes_ask_size")


def dollars(value: Any) -> Decimal:
    """A `*_dollars` value ("0.5600", or a number) as Decimal dollars."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"a dollar amount must be a string or a number, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a dollar amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a dollar amount: {value!r}")
    return amount


def cents(value: Any) -> Decimal:
    """A legacy integer-cents price (56) as Decimal dollars (0.56)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise ValueError(f"a price in cents must be a number, got {value!r}")
    return dollars(value) / 100


def _price(data: dict[str, Any], name: str) -> Decimal | None:
    """`name` in dollars from `{name}_dollars`, else from the legacy cents field `name`."""
    if data.get(f"{name}_dollars") is not None:
        return dollars(data[f"{name}_dollars"])
    if data.get(name) is not None:
        return cents(data[name])
    return None


def _count(data: dict[str, Any], name: str) -> Decimal | None:
    """A contract count from `{name}_fp` (a string), else from the integer field `name`."""
    value = data.get(f"{name}_fp")
    if value is None:
        value = data.get(name)
    return None if value is None else dollars(value)


def _normalise(data: Any, prices: tuple[str, ...], counts: tuple[str, ...]) -> Any:
    """Read every price and count of `data` from whichever shape it came in."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for names, read in ((prices, _price), (counts, _count)):
        for name in names:
            try:
                out[name] = read(data, name)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    return out


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Market(_Model):
    """One market (`GET /markets`, `/markets/{ticker}`, nested in `/events/{ticker}`)."""

    ticker: str = Field(min_length=1)
    event_ticker: str = ""
    title: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    status: str = ""
    result: str = ""
    yes_bid: Price | None = None
    yes_ask: Price | None = None
    no_bid: Price | None = None
    no_ask: Price | None = None
    last_price: Price | None = None
    previous_price: Price | None = None
    previous_yes_bid: Price | None = None
    previous_yes_ask: Price | None = None
    volume: Count | None = None
    volume_24h: Count | None = None
    open_interest: Count | None = None
    yes_bid_size: Count | None = None
    yes_ask_size: Count | None = None
    open_time: datetime | None = None
    close_time: datetime | None = None
    updated_time: datetime | None = None
    #: Not Kalshi's: the replay server's word that it made this market up from another one
    #: (e.g. "derived as 100 − the prices of …"); shown beside the market's line.
    pressbox_note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        return _normalise(data, _MARKET_PRICES, _MARKET_COUNTS)


class Paged(_Model):
    """A page of a cursor-paged list: `cursor` names the next page ("" or absent at the end)."""

    cursor: str | None = None

    @property
    def size(self) -> int:
        """How many items this page holds."""
        return 0


class MarketsPage(Paged):
    """`GET /markets`: one page of markets."""

    markets: list[Market]

    @property
    def size(self) -> int:
        return len(self.markets)


class MarketDoc(_Model):
    """`GET /markets/{ticker}`."""

    market: Market


class Event(_Model):
    """An event: one game, whose markets are one per team (`sub_title` "NYK at SAS (Jun 13)")."""

    event_ticker: str = Field(min_length=1)
    series_ticker: str = ""
    title: str = ""
    sub_title: str = ""
    category: str = ""
    markets: list[Market] = []


class EventDoc(_Model):
    """`GET /events/{event_ticker}`: the event and (beside it) its markets."""

    event: Event
    markets: list[Market] = []

    @property
    def all_markets(self) -> list[Market]:
        """The markets, whether sent beside the event or nested in it."""
        return self.markets or self.event.markets


class Level(_Model):
    """One price level of an order book: a bid at `price` for `count` contracts."""

    price: Price
    count: Count


def _levels(rows: Any, in_cents: bool) -> list[Level]:
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise ValueError("order book levels must be a list")
    levels = []
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) != 2:
            raise ValueError(f"an order book level is [price, count], got {row!r}")
        price = cents(row[0]) if in_cents else dollars(row[0])
        levels.append(Level(price=price, count=dollars(row[1])))
    return levels


class Orderbook(_Model):
    """`GET /markets/{ticker}/orderbook`: bids only, for yes and for no, ascending by price.

    A yes bid at X is a no ask at 1 − X, so the best yes ask is 1 − the best no bid.
    """

    yes: list[Level] = []
    no: list[Level] = []

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("yes" in data and "orderbook" not in data):
            return data
        fixed, legacy = data.get("orderbook_fp"), data.get("orderbook")
        if isinstance(fixed, dict):
            return {side: _levels(fixed.get(f"{side}_dollars"), False) for side in ("yes", "no")}
        if isinstance(legacy, dict):
            book = {}
            for side in ("yes", "no"):
                if legacy.get(f"{side}_dollars") is not None:
                    book[side] = _levels(legacy[f"{side}_dollars"], False)
                else:
                    book[side] = _levels(legacy.get(side), True)
            return book
        raise ValueError("no orderbook_fp or orderbook object")

    @property
    def best_yes_bid(self) -> Decimal | None:
        return max((level.price for level in self.yes), default=None)

    @property
    def best_no_bid(self) -> Decimal | None:
        return max((level.price for level in self.no), default=None)

    @property
    def best_yes_ask(self) -> Decimal | None:
        """1 − the best no bid: selling yes at X is buying no at 1 − X."""
        best = self.best_no_bid
        return None if best is None else 1 - best

    @property
    def best_no_ask(self) -> Decimal | None:
        best = self.best_yes_bid
        return None if best is None else 1 - best


_OHLC = ("open", "high", "low", "close", "mean", "previous")


class Ohlc(_Model):
    """Open, high, low, close (and for traded prices mean and previous) of one candle, dollars."""

    open: Price | None = None
    high: Price | None = None
    low: Price | None = None
    close: Price | None = None
    mean: Price | None = None
    previous: Price | None = None

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        return _normalise(data, _OHLC, ())


class Candle(_Model):
    """One candlestick; `end` is the end of its period."""

    end: datetime = Field(alias="end_period_ts")
    price: Ohlc = Ohlc()
    yes_bid: Ohlc = Ohlc()
    yes_ask: Ohlc = Ohlc()
    volume: Count | None = None
    open_interest: Count | None = None

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        return _normalise(data, (), ("volume", "open_interest"))

    @field_validator("end", mode="before")
    @classmethod
    def _unix(cls, value: Any) -> Any:
        return _unix_seconds(value)


class Candlesticks(_Model):
    """`GET /series/{s}/markets/{t}/candlesticks`."""

    ticker: str = ""
    candlesticks: list[Candle]


class Trade(_Model):
    """One trade (`GET /markets/trades`); `yes_price` + `no_price` = 1."""

    trade_id: str = ""
    ticker: str
    yes_price: Price | None = None
    no_price: Price | None = None
    count: Count | None = None
    taker_side: str = ""
    created_time: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        return _normalise(data, ("yes_price", "no_price"), ("count",))


class TradesPage(Paged):
    """`GET /markets/trades`: one page of trades, newest first."""

    trades: list[Trade]

    @property
    def size(self) -> int:
        return len(self.trades)


class TickerMessage(_Model):
    """`msg` of a WebSocket `ticker` frame: the market's last price, best bid and ask."""

    market_ticker: str = Field(min_length=1)
    price: Price | None = None
    yes_bid: Price | None = None
    yes_ask: Price | None = None
    volume: Count | None = None
    open_interest: Count | None = None
    ts: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        return _normalise(data, ("price", "yes_bid", "yes_ask"), ("volume", "open_interest"))

    @field_validator("ts", mode="before")
    @classmethod
    def _unix(cls, value: Any) -> Any:
        return _unix_seconds(value)


class TradeMessage(_Model):
    """`msg` of a WebSocket `trade` frame."""

    trade_id: str = ""
    market_ticker: str = Field(min_length=1)
    yes_price: Price | None = None
    no_price: Price | None = None
    count: Count | None = None
    taker_side: str = ""
    ts: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        return _normalise(data, ("yes_price", "no_price"), ("count",))

    @field_validator("ts", mode="before")
    @classmethod
    def _unix(cls, value: Any) -> Any:
        return _unix_seconds(value)


class Frame(_Model):
    """One WebSocket frame from Kalshi: `{type, sid, seq?, msg}` (`id` answers a command)."""

    type: str = Field(min_length=1)
    id: int | None = None
    sid: int | None = None
    seq: int | None = None
    msg: dict[str, Any] = {}


def _unix_seconds(value: Any) -> Any:
    """Kalshi's Unix time stamps are seconds; a number this large is milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    return value


M = TypeVar("M", bound=BaseModel)


def read_json(raw: bytes | str, what: str) -> Any:
    """Parse a body as a JSON object; raises UpstreamDataError naming `what` otherwise."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpstreamDataError(f"Kalshi {what} is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise UpstreamDataError(f"Kalshi {what} is not a JSON object")
    return body


def parse(model: type[M], raw: bytes | str | dict[str, Any], what: str) -> M:
    """Validate a Kalshi body (bytes or parsed) as `model`; raises UpstreamDataError naming
    `what` and the first problems."""
    body = read_json(raw, what) if isinstance(raw, bytes | str) else raw
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise UpstreamDataError(f"Kalshi {what} has an unexpected shape: {problems}") from exc
