"""The HTTP client's failure policy: Retry-After on 429, the host circuit a 403 opens, half-open
probes. httpx.MockTransport plays the host; a fake clock moves only when slept on."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fakes import FakeClock
from pressbox.errors import HostBlocked, UpstreamError, UpstreamStatusError
from pressbox.replay.server import http_date
from pressbox.sources.budget import RequestBudget
from pressbox.sources.circuit import (
    MAX_RETRY_AFTER,
    PROBE_WAIT,
    CircuitState,
    HostCircuit,
    parse_retry_after,
)
from pressbox.sources.http import HttpClient
from pressbox.sources.retry import Backoff, is_retryable

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
BLOCK = timedelta(minutes=5)
STATUS = "/v2/sports/football/leagues/nfl/events/1/competitions/1/status"
PLAYS = "/v2/sports/football/leagues/nfl/events/1/competitions/1/plays"


Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class FakeHost:
    """Answers each request with the next queued answer (then 200s); logs when each was sent."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.answers: list[httpx.Response | type[Exception]] = []
        self.sent: list[tuple[datetime, str]] = []
        self.hold: asyncio.Event | None = None  # set: requests wait on it before answering
        self.arrived = asyncio.Event()  # set at each request

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((self.clock.now(), request.url.path))
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        answer = self.answers.pop(0) if self.answers else httpx.Response(200, json={"ok": True})
        if isinstance(answer, type):
            raise answer("simulated", request=request)  # type: ignore[call-arg]
        return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def host(clock: FakeClock) -> FakeHost:
    return FakeHost(clock)


@pytest.fixture
async def client(clock: FakeClock, host: FakeHost) -> AsyncIterator[HttpClient]:
    budget = RequestBudget(clock, rate=1000.0, burst=100)
    http = HttpClient(
        "http://espn.test", clock, budget, transport=httpx.MockTransport(host.handle), block=BLOCK
    )
    yield http
    await http.aclose()


async def get(client: HttpClient, path: str = STATUS, kind: str = "status") -> None:
    await asyncio.wait_for(client.get(path, kind), timeout=5)


# --- Retry-After -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Sat, 23 Aug 2025 16:02:30 GMT", 150.0),  # an HTTP date, 150 s after T0
        ("Sat, 23 Aug 2025 15:59:00 GMT", 0.0),  # already past
        ("86400", MAX_RETRY_AFTER),  # a day: capped
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),  # RFC 9110: delta-seconds is an integer
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, T0) == seconds


async def test_a_429_makes_the_next_request_wait_its_retry_after(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    host.answers = [httpx.Response(429, headers={"Retry-After": "30"})]
    with pytest.raises(UpstreamStatusError) as refused:
        await get(client)
    assert refused.value.status == 429 and is_retryable(refused.value)
    await get(client, PLAYS, "plays")  # any request to the host waits, not only that path
    (first, _), (second, path) = host.sent
    assert path == PLAYS and second - first >= timedelta(seconds=30)
    await get(client)  # the pause is over: no further wait
    assert host.sent[-1][0] == second


async def test_a_429_retry_after_http_date_is_waited_on_the_injected_clock(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    until = T0 + timedelta(minutes=2)
    host.answers = [httpx.Response(429, headers={"Retry-After": http_date(until)})]
    with pytest.raises(UpstreamStatusError):
        await get(client)
    await get(client)
    assert host.sent[1][0] >= until
    assert sum(clock.slept) >= 120.0


async def test_a_429_without_retry_after_does_not_pause_the_host(
    client: HttpClient, host: FakeHost
) -> None:
    host.answers = [httpx.Response(429)]
    with pytest.raises(UpstreamStatusError):
        await get(client)
    await get(client)
    assert host.sent[0][0] == host.sent[1][0]


# --- the circuit a 403 opens ---------------------------------------------------------------


async def test_a_403_blocks_every_request_to_the_host_without_sending_it(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    host.answers = [httpx.Response(403, text="Forbidden")]
    with pytest.raises(UpstreamStatusError) as refused:
        await get(client)
    assert refused.value.status == 403
    assert client.circuit.state is CircuitState.OPEN
    clock.advance(timedelta(minutes=4))
    for path, kind in [(STATUS, "status"), (PLAYS, "plays"), (PLAYS, "plays")]:
        with pytest.raises(HostBlocked) as blocked:
            await get(client, path, kind)
        assert isinstance(blocked.value, UpstreamError) and is_retryable(blocked.value)
        assert blocked.value.until == T0 + BLOCK
        assert blocked.value.retry_in == pytest.approx(60.0)
        assert "espn.test refused us (HTTP 403): requests paused until" in str(blocked.value)
    assert len(host.sent) == 1  # nothing was sent while blocked
    assert client.stats.by_kind["plays"].blocked == 2
    assert client.stats.by_kind["plays"].requests == 0
    assert client.stats.by_kind["status"].to_json()["blocked"] == 1


async def test_after_the_block_one_probe_goes_and_its_success_closes_the_circuit(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    host.answers = [httpx.Response(403)]
    with pytest.raises(UpstreamStatusError):
        await get(client)
    clock.advance(BLOCK)
    host.hold, host.arrived = asyncio.Event(), asyncio.Event()
    probe = asyncio.create_task(get(client))
    await asyncio.wait_for(host.arrived.wait(), timeout=5)
    assert client.circuit.state is CircuitState.HALF_OPEN
    with pytest.raises(HostBlocked) as waiting:  # others fail fast while the probe is out
        await get(client, PLAYS, "plays")
    assert waiting.value.retry_in == PROBE_WAIT
    host.hold.set()
    await probe
    assert client.circuit.state is CircuitState.CLOSED
    await get(client, PLAYS, "plays")
    await get(client, PLAYS, "plays")
    assert [path for _, path in host.sent] == [STATUS, STATUS, PLAYS, PLAYS]


async def test_a_probe_refused_again_opens_the_circuit_for_another_full_period(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    host.answers = [httpx.Response(403), httpx.Response(403)]
    with pytest.raises(UpstreamStatusError):
        await get(client)
    clock.advance(BLOCK + timedelta(seconds=1))
    with pytest.raises(UpstreamStatusError):
        await get(client)  # the probe
    assert client.circuit.state is CircuitState.OPEN
    assert client.circuit.blocked_until == clock.now() + BLOCK
    clock.advance(BLOCK - timedelta(seconds=1))
    with pytest.raises(HostBlocked):
        await get(client)
    assert len(host.sent) == 2


async def test_a_probe_that_gets_no_answer_lets_the_next_request_probe(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    host.answers = [httpx.Response(403), httpx.ReadTimeout]
    with pytest.raises(UpstreamStatusError):
        await get(client)
    clock.advance(BLOCK)
    with pytest.raises(UpstreamError, match="ReadTimeout"):
        await get(client)  # the probe timed out: it says nothing of the block
    assert client.circuit.state is CircuitState.HALF_OPEN
    await get(client)  # the next request is the probe, and its answer closes the circuit
    assert client.circuit.state is CircuitState.CLOSED
    assert len(host.sent) == 3


async def test_a_cancelled_probe_does_not_leave_the_circuit_stuck(
    client: HttpClient, host: FakeHost, clock: FakeClock
) -> None:
    host.answers = [httpx.Response(403)]
    with pytest.raises(UpstreamStatusError):
        await get(client)
    clock.advance(BLOCK)
    host.hold, host.arrived = asyncio.Event(), asyncio.Event()
    probe = asyncio.create_task(get(client))
    await asyncio.wait_for(host.arrived.wait(), timeout=5)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    host.hold.set()
    await get(client)
    assert client.circuit.state is CircuitState.CLOSED
    assert client.stats.by_kind["status"].cancelled == 1


async def test_requests_queued_for_the_budget_when_a_403_arrives_are_not_sent(
    clock: FakeClock, host: FakeHost
) -> None:
    budget = RequestBudget(clock, rate=1.0, burst=1)
    transport = httpx.MockTransport(host.handle)
    client = HttpClient("http://espn.test", clock, budget, transport=transport, block=BLOCK)
    host.answers = [httpx.Response(403)]
    results = await asyncio.wait_for(
        asyncio.gather(*(client.get(STATUS, "status") for _ in range(4)), return_exceptions=True),
        timeout=5,
    )
    await client.aclose()
    assert [type(r) for r in results] == [UpstreamStatusError] + [HostBlocked] * 3
    assert len(host.sent) == 1


def test_an_answer_to_a_request_sent_before_the_block_does_not_close_it() -> None:
    circuit = HostCircuit("espn.test", BLOCK)
    assert circuit.admit(T0) is False
    assert circuit.admit(T0) is False
    circuit.answered(403, T0)
    circuit.answered(200, T0 + timedelta(seconds=1))  # the other one, sent before the 403
    assert circuit.state is CircuitState.OPEN
    with pytest.raises(HostBlocked):
        circuit.admit(T0 + timedelta(seconds=2))


def test_a_block_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="block must be positive"):
        HostCircuit("espn.test", timedelta(0))


# --- backoff of a blocked request ----------------------------------------------------------


def test_a_blocked_request_backs_off_until_the_circuit_may_half_open() -> None:
    random.seed(403)
    policy = Backoff(initial=10.0, cap=60.0)
    blocked = HostBlocked("espn.test", T0 + BLOCK, retry_in=240.0)
    delays = [policy.next_delay(blocked) for _ in range(50)]
    # Past the block (a backoff capped at 60 s would retry into it four times), jittered so the
    # host's pollers do not all wake at once.
    assert all(240.0 <= d <= 250.0 for d in delays)
    assert len(set(delays)) == len(delays)
