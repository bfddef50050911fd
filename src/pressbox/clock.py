"""The one clock of Pressbox: every wait and every time stamp in streaming code goes through it.

A replay at 60x runs every cadence 60x faster on the same code path, because the streamer, the
request budget and the replay server all read the same `Clock`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time and waits; injected wherever code needs either."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """Wall-clock time: what a live deployment uses."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Replay time: starts at `origin` and runs `speed` times faster than real time.

    Created once per replay and shared by the replay server and every streamer, so that a request
    made "at" replay time t is answered with what upstream said at t.
    """

    def __init__(self, origin: datetime, speed: float = 1.0) -> None:
        if origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.origin = origin.astimezone(UTC)
        self.speed = float(speed)
        self._started = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._started) * self.speed
        return self.origin + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


def parse_time(value: str) -> datetime:
    """Parse an ESPN/ISO-8601 time stamp ("2025-08-23T16:08Z", "...:54Z", "+00:00") to aware UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """Format an aware time as ISO-8601 UTC with a trailing Z (seconds precision)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_optional_time(value: datetime | None) -> str | None:
    """`format_time`, or None for no time (the JSON of a time not reached yet)."""
    return None if value is None else format_time(value)
