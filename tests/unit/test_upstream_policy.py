"""How Pressbox treats upstream: which failures are retried, how long it backs off, the budget."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from fakes import FakeClock
from pressbox.errors import (
    PressboxError,
    StoreError,
    UpstreamDataError,
    UpstreamError,
    UpstreamStatusError,
)
from pressbox.sources.budget import RequestBudget
from pressbox.sources.http import FetchTally
from pressbox.sources.retry import Backoff, is_retryable

URL = "http://espn.test/v2/sports/football/leagues/nfl/events/1/competitions/1/status"


# --- is_retryable ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 408, 425, 429, 500, 502, 503, 504])
def test_statuses_a_later_attempt_may_cure_are_retryable(status: int) -> None:
    assert is_retryable(UpstreamStatusError(status, url=URL))


@pytest.mark.parametrize("status", [400, 401, 403, 405, 410, 501])
def test_refusals_are_not_retryable(status: int) -> None:
    # 403 above all: ESPN blocks an IP with it, and hammering on makes it worse.
    assert not is_retryable(UpstreamStatusError(status, url=URL))


def test_network_failures_and_torn_bodies_are_retryable() -> None:
    assert is_retryable(UpstreamError("status request failed: ReadTimeout()", url=URL))
    assert is_retryable(UpstreamDataError("status document is not JSON"))


@pytest.mark.parametrize("exc", [ValueError("x"), StoreError("db"), PressboxError("?")])
def test_failures_that_are_not_upstream_ones_are_not_retryable(exc: Exception) -> None:
    assert not is_retryable(exc)


# --- Backoff ---------------------------------------------------------------------------------


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full jitter draws from [0, bound]; always drawing the bound shows the bounds themselves."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)


def test_delays_double_up_to_the_cap(no_jitter: None) -> None:
    policy = Backoff(initial=1.0, cap=10.0)
    assert [policy.next_delay() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_reset_starts_over(no_jitter: None) -> None:
    policy = Backoff(initial=2.0, cap=60.0)
    assert [policy.next_delay() for _ in range(4)] == [2.0, 4.0, 8.0, 16.0]
    policy.reset()
    assert [policy.next_delay() for _ in range(3)] == [2.0, 4.0, 8.0]


def test_retryable_failures_follow_the_exponential_bounds(no_jitter: None) -> None:
    policy = Backoff(initial=1.0, cap=60.0)
    retryable = UpstreamStatusError(503, url=URL)
    assert [policy.next_delay(retryable) for _ in range(3)] == [1.0, 2.0, 4.0]


def test_a_non_retryable_failure_waits_the_cap_at_once(no_jitter: None) -> None:
    policy = Backoff(initial=1.0, cap=60.0)
    assert policy.next_delay(UpstreamStatusError(403, url=URL)) == 60.0


def test_jittered_delays_stay_within_their_bounds() -> None:
    random.seed(20250823)
    policy = Backoff(initial=1.0, cap=8.0)
    bounds = [1.0, 2.0, 4.0, 8.0] + [8.0] * 60
    delays = [policy.next_delay() for _ in bounds]
    assert all(0.0 <= d <= b for d, b in zip(delays, bounds, strict=True))
    # Full jitter spreads over the whole range: at the cap, draws land in both halves.
    capped = delays[4:]
    assert min(capped) < 4.0 < max(capped)
    assert len(set(capped)) == len(capped)


def test_non_retryable_delays_spread_over_the_cap_range() -> None:
    random.seed(7)
    policy = Backoff(initial=1.0, cap=60.0)
    refused = UpstreamStatusError(401, url=URL)
    delays = [policy.next_delay(refused) for _ in range(50)]
    assert all(0.0 <= d <= 60.0 for d in delays)
    # Far beyond what a first retryable attempt (at most 1 s) could wait.
    assert sum(d > 1.0 for d in delays) >= 45


# --- RequestBudget ---------------------------------------------------------------------------


async def acquire_times(budget: RequestBudget, clock: FakeClock, n: int) -> list[float]:
    """Clock seconds at which each of `n` requests was let through (bounded: a spin fails)."""
    start = clock.moment
    times = []
    for _ in range(n):
        await asyncio.wait_for(budget.acquire(), timeout=2)
        times.append(clock.elapsed(start))
    return times


async def test_a_burst_passes_at_once_then_requests_are_spaced() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=4.0, burst=3)
    times = await acquire_times(budget, clock, 6)
    assert times == [0.0, 0.0, 0.0, 0.25, 0.5, 0.75]
    assert budget.waited == pytest.approx(0.75)


async def test_waiting_accumulates_and_an_idle_budget_refills_only_to_its_burst() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=1.0, burst=2)
    await acquire_times(budget, clock, 4)
    assert budget.waited == pytest.approx(2.0)
    clock.moment += timedelta(hours=1)  # idle far longer than needed to refill
    times = await acquire_times(budget, clock, 4)
    assert times == pytest.approx([0.0, 0.0, 1.0, 2.0])
    assert budget.waited == pytest.approx(4.0)


async def test_an_uneven_rate_still_spaces_requests_one_over_rate_apart() -> None:
    # 1/3 s is 333333 µs on the clock: the token deficit left over is less than a microsecond's
    # worth, and the budget must still move the clock rather than sleep 0 forever.
    clock = FakeClock()
    budget = RequestBudget(clock, rate=3.0, burst=1)
    times = await acquire_times(budget, clock, 4)
    assert times == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0], abs=1e-5)
    assert len(clock.slept) < 10


async def test_concurrent_callers_share_the_budget() -> None:
    clock = FakeClock()
    budget = RequestBudget(clock, rate=2.0, burst=1)
    start = clock.moment
    done: list[float] = []

    async def one() -> None:
        await budget.acquire()
        done.append(clock.elapsed(start))

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(5))), timeout=5)
    assert done == [0.0, 0.5, 1.0, 1.5, 2.0]


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0), (1.0, -3)])
def test_a_bad_rate_or_burst_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive and burst at least 1"):
        RequestBudget(FakeClock(), rate=rate, burst=burst)


def test_a_fetch_tally_resumes_from_the_saved_figures() -> None:
    tally = FetchTally()
    tally.resume({"requests": 12, "bytes": 3456, "skipped": 2, "waited": 1.5, "other": 9})
    assert tally.to_json() == {"requests": 12, "bytes": 3456, "skipped": 2, "waited": 1.5}
    fresh = FetchTally()
    fresh.resume({"requests": "x", "bytes": -1, "skipped": True})  # malformed: ignored
    fresh.resume(None)
    assert fresh.to_json() == {"requests": 0, "bytes": 0, "skipped": 0, "waited": 0.0}
