"""Market lines in a game's log: `market` events (one price point of a team market) and
`market_status` events (whether the game has a market and whether its data is current). Pure.

`market_gap` compares the line with ESPN's: the mean absolute gap between ESPN's home win
probability and the market's over the game.

A `market` key names the market, the point's time and its prices, so reading the same point
twice (a poll repeated, a feed reopened with a Kalshi timestamp) appends it once. A
`market_status` is logged when the state (or the event it is about) changes; its key carries the
observation time, so a market that goes stale and comes back logs `live` twice.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pressbox.clock import format_time, parse_time
from pressbox.domain.events import Event, EventType, StoredEvent, fingerprint
from pressbox.domain.market import GameMarkets, MarketPoint


class MarketState(StrEnum):
    """A game's market line: points flowing, no market found, or no point for too long."""

    LIVE = "live"
    ABSENT = "absent"
    STALE = "stale"


@dataclass(frozen=True)
class MarketStatus:
    """The data of a `market_status` event."""

    state: MarketState
    event_ticker: str | None = None
    tickers: tuple[str, ...] = field(default_factory=tuple)
    source: str | None = None  # "override", "kalshi", "guess"; None while no market is known
    reason: str | None = None
    notes: tuple[str, ...] = ()  # the markets' own notes (GameMarkets.notes)

    @classmethod
    def of(
        cls, state: MarketState, markets: GameMarkets | None, reason: str | None = None
    ) -> MarketStatus:
        """The status of `markets` (None: no market known)."""
        if markets is None:
            return cls(state, reason=reason)
        return cls(
            state, markets.event_ticker, markets.tickers, markets.source, reason, markets.notes
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MarketStatus:
        """The inverse of `to_json` (a logged event's data)."""
        return cls(
            MarketState(data["state"]),
            data.get("event_ticker"),
            tuple(data.get("tickers") or ()),
            data.get("source"),
            data.get("reason"),
            tuple(data.get("notes") or ()),
        )

    def changes(self, previous: MarketStatus | None) -> bool:
        """Whether this status is worth logging after `previous`: another state or event (a
        new reason alone is not: an error's message would log the same state again)."""
        if previous is None:
            return True
        return (self.state, self.event_ticker) != (previous.state, previous.event_ticker)

    def to_json(self) -> dict[str, Any]:
        """The wire form of docs/protocol.md."""
        return {
            "state": str(self.state),
            "event_ticker": self.event_ticker,
            "tickers": list(self.tickers),
            "source": self.source,
            "reason": self.reason,
            "notes": list(self.notes),
        }


def market_event(point: MarketPoint, at: datetime) -> Event:
    """A `market` event of one point, observed at `at`; its time in the log's format."""
    data = {**point.to_json(), "time": format_time(point.time)}
    prices = fingerprint([data["bid"], data["ask"], data["last"], data["volume"]])
    key = f"market:{point.ticker}:{format_time(point.time)}:{prices}"
    return Event(EventType.MARKET, key, at, data)


def market_status_event(status: MarketStatus, at: datetime) -> Event:
    """A `market_status` event of `status`, observed at `at`."""
    key = f"market_status:{status.state}:{format_time(at)}:{fingerprint(status.to_json())}"
    return Event(EventType.MARKET_STATUS, key, at, status.to_json())


def last_market_status(events: Iterable[StoredEvent]) -> MarketStatus | None:
    """The last `market_status` of a game's log, None if it has none."""
    found: MarketStatus | None = None
    for event in events:
        if event.type is EventType.MARKET_STATUS:
            found = MarketStatus.from_json(event.data)
    return found


def market_time(data: dict[str, Any]) -> datetime | None:
    """The time a `market` event's point is of (None: it names none)."""
    value = data.get("time")
    return parse_time(value) if isinstance(value, str) and value else None


def last_market_time(events: Iterable[StoredEvent]) -> datetime | None:
    """The latest point time of a game's `market` events, None if it has none."""
    times = (market_time(e.data) for e in events if e.type is EventType.MARKET)
    return max(filter(None, times), default=None)


def market_summary(
    previous: dict[str, Any] | None, events: Iterable[StoredEvent]
) -> dict[str, Any] | None:
    """The game summary's `market` after `events` (docs/protocol.md): the last `market_status`'s
    state, reason and event, and the last point's ticker, home probability, last trade and time.
    `previous` is the summary before them (None: no market event yet); it is not changed."""
    summary = previous
    for event in events:
        if event.type is EventType.MARKET_STATUS:
            summary = {
                **(summary or _NO_POINT),
                "state": event.data["state"],
                "reason": event.data.get("reason"),
                "event_ticker": event.data.get("event_ticker"),
            }
        elif event.type is EventType.MARKET:
            summary = {
                "state": None,
                "reason": None,
                "event_ticker": None,
                **(summary or {}),
                "ticker": event.data.get("ticker"),
                "implied_home": event.data.get("implied_home"),
                "last": event.data.get("last"),
                "time": event.data.get("time"),
            }
    return summary


_NO_POINT: dict[str, Any] = {"ticker": None, "implied_home": None, "last": None, "time": None}


@dataclass(frozen=True)
class MarketGap:
    """ESPN's home win probability against the market's over a game: how many ESPN points had a
    market point to compare with, and the mean absolute difference (0..1; None: none had)."""

    compared: int
    mean_abs: float | None

    def to_json(self) -> dict[str, Any]:
        mean = None if self.mean_abs is None else round(self.mean_abs, 4)
        return {"compared": self.compared, "mean_abs_gap": mean}


def market_gap(events: Iterable[StoredEvent]) -> MarketGap:
    """Each ESPN `probability` point beside the last `market` point (with an implied home
    probability) at or before its time, both on the log's clock: the point's `time` (a play's
    wallclock; Kalshi's time of a price, else when it was read). ESPN points before the first
    market point are not compared."""
    espn: list[tuple[datetime, float]] = []
    market: list[tuple[datetime, float]] = []
    for event in events:
        data = event.data
        if event.type is EventType.PROBABILITY and data.get("home") is not None:
            espn.append((_time(event), float(data["home"])))
        elif event.type is EventType.MARKET and data.get("implied_home") is not None:
            market.append((_time(event), float(data["implied_home"])))
    market.sort(key=lambda point: point[0])
    times = [moment for moment, _ in market]
    gaps = []
    for moment, home in espn:
        index = bisect_right(times, moment)
        if index:
            gaps.append(abs(home - market[index - 1][1]))
    return MarketGap(len(gaps), sum(gaps) / len(gaps) if gaps else None)


def _time(event: StoredEvent) -> datetime:
    """The time a point is of: its `time`, else when it was observed."""
    return market_time(event.data) or event.at
