"""A request budget per upstream host: a token bucket on the injected clock, served by priority.

Every request of the process to one host takes a token from that host's one budget. Under
pressure the cheap, freshness-critical requests go first: waiters are served highest priority
first (the lowest `Priority` value), in arrival order within a priority, so no stream starves
another of its class and a flood of low-priority documents never delays a sentinel. A waiter
ages: every `aging` seconds in the queue raise it one class, so that a saturated budget slows
the low classes down without starving them for good.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from pressbox.clock import Clock

#: A clock tells time in whole microseconds (datetime): a shorter wait may not move it at all.
RESOLUTION = 1e-6


class Priority(IntEnum):
    """Request classes, most urgent first."""

    SENTINEL = 0  # status, situation, scoreboards: what says that something changed
    LIVE = 1  # plays, probabilities: the live edge of the game
    SLOW = 2  # drives, leaders: documents that may lag
    OTHER = 3  # discovery, teams, anything else


class BudgetSkipped(Exception):
    """A request gave up its place: its wait would have passed its `max_wait`."""


@dataclass
class _Waiter:
    priority: int
    order: int
    since: datetime
    woken: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class PriorityStats:
    """What one priority class got from the budget."""

    granted: int = 0
    waited: float = 0.0  # clock seconds spent queued, summed over granted requests
    skipped: int = 0  # gave up (max_wait) before their turn

    def to_json(self) -> dict[str, float | int]:
        return {"granted": self.granted, "waited": round(self.waited, 3), "skipped": self.skipped}


class RequestBudget:
    """Allows `rate` requests per second of clock time on average, `burst` at once; queued
    callers are served by `Priority`, then in arrival order."""

    def __init__(
        self, clock: Clock, rate: float, burst: int = 1, aging: float | None = 60.0
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.aging = aging
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = clock.now()
        self._queue: list[_Waiter] = []
        self._order = itertools.count()
        self._sleeping = False
        #: Clock seconds the head of the queue slept for tokens, in total.
        self.waited = 0.0
        self.by_priority: dict[int, PriorityStats] = defaultdict(PriorityStats)

    def _refill(self) -> None:
        now = self._clock.now()
        elapsed = (now - self._stamp).total_seconds()
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + max(0.0, elapsed) * self.rate)

    def queued(self, priority: int | None = None) -> int:
        """Callers waiting now (of `priority` and more urgent ones, when given)."""
        if priority is None:
            return len(self._queue)
        return sum(w.priority <= priority for w in self._queue)

    async def acquire(self, priority: int = Priority.OTHER, max_wait: float | None = None) -> float:
        """Wait for a token; returns the clock seconds waited. With `max_wait`, raises
        BudgetSkipped instead of waiting longer than that (the caller counts it as skipped)."""
        began = self._clock.now()
        waiter = _Waiter(int(priority), next(self._order), began)
        self._queue.append(waiter)
        try:
            while True:
                self._refill()
                if self._head() is waiter and self._tokens >= 1.0:
                    break
                waited = (self._clock.now() - began).total_seconds()
                if max_wait is not None and waited + self._eta(waiter) > max_wait:
                    self.by_priority[waiter.priority].skipped += 1
                    raise BudgetSkipped(f"a request of priority {priority} would wait too long")
                if self._tokens >= 1.0:  # a token is there, for the head: let it take it
                    self._head().woken.set()
                elif not self._sleeping:
                    # One waiter sleeps for the next token, whoever it is; it hands the token on
                    # to the head when it wakes. Never wait less than the clock can measure, or
                    # a deficit smaller than a microsecond's worth of tokens would spin forever.
                    wait = max((1.0 - self._tokens) / self.rate, RESOLUTION)
                    self.waited += wait
                    self._sleeping = True
                    try:
                        await self._clock.sleep(wait)
                    finally:
                        self._sleeping = False
                    continue
                waiter.woken.clear()
                await waiter.woken.wait()
        finally:
            self._leave(waiter)
        self._tokens -= 1.0
        waited = (self._clock.now() - began).total_seconds()
        stats = self.by_priority[waiter.priority]
        stats.granted += 1
        stats.waited += waited
        return waited

    def _rank(self, waiter: _Waiter, now: datetime) -> tuple[float, int]:
        """Its place in the queue: its class, raised by its age; then its arrival."""
        priority = float(waiter.priority)
        if self.aging:
            priority -= (now - waiter.since).total_seconds() // self.aging
        return priority, waiter.order

    def _head(self) -> _Waiter:
        now = self._clock.now()
        return min(self._queue, key=lambda w: self._rank(w, now))

    def _eta(self, waiter: _Waiter) -> float:
        """Clock seconds before `waiter`'s turn at the current rate, if nobody else arrives."""
        now = self._clock.now()
        mine = self._rank(waiter, now)
        ahead = sum(self._rank(w, now) < mine for w in self._queue)
        return max(0.0, ahead + 1 - self._tokens) / self.rate

    def _leave(self, waiter: _Waiter) -> None:
        """Take `waiter` out of the queue (served or gone) and wake the new head."""
        if waiter in self._queue:
            self._queue.remove(waiter)
        if self._queue:
            self._head().woken.set()

    def stats_json(self) -> dict[str, dict[str, float | int]]:
        """`by_priority` keyed by the class names."""
        names = {int(p): p.name.lower() for p in Priority}
        return {names.get(p, str(p)): s.to_json() for p, s in sorted(self.by_priority.items())}
