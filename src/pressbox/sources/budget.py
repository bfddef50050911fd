"""A request budget per upstream host: a token bucket on the injected clock."""

from __future__ import annotations

import asyncio

from pressbox.clock import Clock

#: A clock tells time in whole microseconds (datetime): a shorter wait may not move it at all.
RESOLUTION = 1e-6


class RequestBudget:
    """Allows `rate` requests per second of clock time on average, `burst` at once.

    Callers queue in arrival order (an asyncio.Lock is fair), so no stream starves another.
    """

    def __init__(self, clock: Clock, rate: float, burst: int = 1) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = clock.now()
        self._lock = asyncio.Lock()
        self.waited = 0.0

    def _refill(self) -> None:
        now = self._clock.now()
        elapsed = (now - self._stamp).total_seconds()
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + max(0.0, elapsed) * self.rate)

    async def acquire(self) -> None:
        """Wait until a request may be sent."""
        async with self._lock:
            self._refill()
            while self._tokens < 1.0:
                # Never wait less than the clock can measure, or a deficit smaller than one
                # microsecond's worth of tokens would spin here forever on a clock that rounds.
                wait = max((1.0 - self._tokens) / self.rate, RESOLUTION)
                self.waited += wait
                await self._clock.sleep(wait)
                self._refill()
            self._tokens -= 1.0
