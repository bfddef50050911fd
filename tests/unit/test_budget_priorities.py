"""The request budget under saturation: priorities first, FIFO within one, never above its rate."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pressbox.sources.budget import BudgetSkipped, Priority, RequestBudget


class FakeClock:
    """Stands still until slept on; a sleep first lets every ready task run (so that requests
    arriving at one moment all queue), then moves the clock forward by exactly its length."""

    def __init__(self) -> None:
        self.moment = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self.moment += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def since(self, start: datetime) -> float:
        return (self.moment - start).total_seconds()


async def test_under_saturation_the_most_urgent_class_goes_first_and_fifo_within_one() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=1.0, burst=1)
    await budget.acquire(Priority.SENTINEL)  # the burst is spent: everyone below queues
    served: list[str] = []

    async def one(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        served.append(name)

    arrivals = [
        ("leaders-1", Priority.SLOW),
        ("plays-1", Priority.LIVE),
        ("drives-1", Priority.SLOW),
        ("status-1", Priority.SENTINEL),
        ("probabilities-1", Priority.LIVE),
        ("situation-1", Priority.SENTINEL),
        ("team-1", Priority.OTHER),
    ]
    # Tasks first run in creation order: that is their arrival order.
    tasks = [asyncio.create_task(one(name, priority)) for name, priority in arrivals]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert served == [
        "status-1",
        "situation-1",
        "plays-1",
        "probabilities-1",
        "leaders-1",
        "drives-1",
        "team-1",
    ]
    stats = budget.stats_json()
    assert stats["sentinel"]["granted"] == 3 and stats["slow"]["granted"] == 2
    assert stats["slow"]["waited"] > stats["sentinel"]["waited"]


async def test_a_late_urgent_request_overtakes_the_waiting_low_ones() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=2.0, burst=1)
    start = clock.now()
    done: dict[str, float] = {}

    async def one(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        done[name] = clock.since(start)

    low = [asyncio.create_task(one(f"slow-{i}", Priority.SLOW)) for i in range(4)]
    for _ in range(100):  # bounded: until two low ones are through and two still wait
        if len(done) >= 2:
            break
        await asyncio.sleep(0)
    urgent = asyncio.create_task(one("status", Priority.SENTINEL))
    await asyncio.wait_for(asyncio.gather(*low, urgent), timeout=5)
    order = sorted(done, key=lambda name: done[name])
    assert order.index("status") <= 3 and order[-1].startswith("slow")
    assert order.index("status") < order.index("slow-3")


async def test_the_rate_is_never_exceeded_under_mixed_saturation() -> None:
    clock = FakeClock()
    rate, burst = 4.0, 3
    budget = RequestBudget(clock, rate=rate, burst=burst)
    start = clock.now()
    times: list[float] = []

    async def one(priority: Priority) -> None:
        await budget.acquire(priority)
        times.append(clock.since(start))

    tasks = [asyncio.create_task(one(Priority(i % 4))) for i in range(40)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    times.sort()
    # In any window [a, a + w] at most burst + rate * w requests pass.
    for i, first in enumerate(times):
        for j in range(i, len(times)):
            assert j - i + 1 <= burst + rate * (times[j] - first) + 1e-6
    assert times[-1] == pytest.approx((40 - burst) / rate, abs=1e-3)


async def test_a_request_that_would_wait_too_long_is_skipped_and_counted() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=1.0, burst=1)
    await budget.acquire(Priority.SENTINEL)
    queued = [asyncio.create_task(budget.acquire(Priority.LIVE)) for _ in range(5)]
    await asyncio.sleep(0)
    with pytest.raises(BudgetSkipped):
        await budget.acquire(Priority.SLOW, max_wait=3.0)  # five ahead of it: ~6 s
    assert budget.by_priority[Priority.SLOW].skipped == 1
    assert budget.queued(Priority.LIVE) == 5
    await asyncio.wait_for(asyncio.gather(*queued), timeout=5)
    assert await budget.acquire(Priority.SLOW, max_wait=3.0) == pytest.approx(1.0)


async def test_a_cancelled_waiter_leaves_the_queue_and_the_next_one_is_served() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=1.0, burst=1)
    await budget.acquire()
    first = asyncio.create_task(budget.acquire(Priority.LIVE))
    second = asyncio.create_task(budget.acquire(Priority.LIVE))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, timeout=5)
    assert budget.queued() == 0


async def test_a_low_request_waiting_long_enough_ages_past_fresh_urgent_ones() -> None:
    """Saturation slows the low classes down but never starves them: every `aging` seconds in
    the queue raise a waiter one class, past urgent requests that keep arriving."""
    clock = FakeClock()
    budget = RequestBudget(clock, rate=1.0, burst=1, aging=10.0)
    await budget.acquire()
    start = clock.now()
    slow = asyncio.create_task(budget.acquire(Priority.OTHER))  # three classes down
    sentinels = 0

    async def sentinel() -> None:
        nonlocal sentinels
        await budget.acquire(Priority.SENTINEL)
        sentinels += 1
        if not slow.done():  # a fresh one arrives as each is served: the pressure never ends
            tasks.append(asyncio.create_task(sentinel()))

    tasks = [asyncio.create_task(sentinel()) for _ in range(3)]
    await asyncio.wait_for(slow, timeout=5)
    waited = clock.since(start)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    # Aged three classes up after 30 s, it is the oldest of the most urgent class.
    assert 30.0 <= waited <= 31.0 and sentinels >= 29
