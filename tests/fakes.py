"""Fake clocks shared by several test modules (each has `now()` and `async sleep(seconds)`, as
`pressbox.clock.Clock`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class FixedClock:
    """A clock that stands still until the test moves it (`clock.moment = ...`) or something
    sleeps on it: a sleep moves it forward by exactly its length, without yielding."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class FakeClock:
    """Stands still until slept on; sleeping records the length, moves it forward by exactly
    that much, then lets the other ready tasks run once."""

    def __init__(self, moment: datetime = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)) -> None:
        self.moment = moment
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def advance(self, delta: timedelta) -> None:
        self.moment += delta

    def elapsed(self, since: datetime) -> float:
        return (self.moment - since).total_seconds()
