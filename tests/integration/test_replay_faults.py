"""Replay faults: the replay server answers 500, hangs, refuses (403) or throttles (429) on
schedule, and logs every request; on the real NCAAF Postman capture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pressbox.replay import Recording, create_replay_app, load_recording
from pressbox.replay.faults import Fault, LoggedRequest, RequestLog, document_of, fault_at
from pressbox.web.server import running

COMPETITION = "/v2/sports/football/leagues/college-football/events/401756846/competitions/401756846"
STATUS = f"{COMPETITION}/status"
PLAYS = f"{COMPETITION}/plays"


def at(hms: str) -> datetime:
    """A time on game day, 2025-08-23, UTC."""
    return datetime.fromisoformat(f"2025-08-23T{hms}+00:00")


class FixedClock:
    """A replay clock that stands still until the test moves it (or something sleeps on it)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0.001)  # let the world turn, then jump
        self.moment += timedelta(seconds=seconds)


WINDOW = (at("17:00:00"), at("17:05:00"))
FAULTS = [
    Fault(*WINDOW, "500", paths=r"/plays$"),
    Fault(*WINDOW, "429", paths=r"/probabilities$"),
    Fault(*WINDOW, "403", paths=r"/situation$"),
    Fault(at("17:10:00"), at("17:11:00"), "429", retry_after=7),
]


@pytest.fixture(scope="module")
def recording(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at("16:59:59"))


@pytest.fixture
def log() -> RequestLog:
    return RequestLog()


@pytest.fixture
async def client(
    recording: Recording, clock: FixedClock, log: RequestLog
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_replay_app(recording, clock, faults=FAULTS, request_log=log)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        yield client


async def test_faults_answer_only_in_their_window_and_on_their_paths(
    client: httpx.AsyncClient, clock: FixedClock, log: RequestLog
) -> None:
    assert (await client.get(PLAYS)).status_code == 200  # 16:59:59: not yet
    clock.moment = at("17:00:00")
    failed = await client.get(PLAYS)
    assert failed.status_code == 500
    assert failed.json() == {"error": {"code": 500, "message": "replayed fault: 500"}}
    assert failed.headers["date"] == "Sat, 23 Aug 2025 17:00:00 GMT"
    refused = await client.get(f"{COMPETITION}/situation")
    assert refused.status_code == 403 and "retry-after" not in refused.headers  # as ESPN
    throttled = await client.get(f"{COMPETITION}/probabilities")
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "300"  # until the window ends
    assert (await client.get(STATUS)).status_code == 200  # not covered
    clock.moment = at("17:04:59")
    assert (await client.get(f"{COMPETITION}/probabilities")).headers["retry-after"] == "1"
    clock.moment = at("17:05:00")  # the end is exclusive
    assert (await client.get(PLAYS)).status_code == 200
    clock.moment = at("17:10:30")
    everything = await client.get(STATUS)
    assert everything.status_code == 429 and everything.headers["retry-after"] == "7"
    assert [(e.at, document_of(e.path), e.status, e.fault) for e in log.entries] == [
        (at("16:59:59"), "plays", 200, None),
        (at("17:00:00"), "plays", 500, "500"),
        (at("17:00:00"), "situation", 403, "403"),
        (at("17:00:00"), "probabilities", 429, "429"),
        (at("17:00:00"), "status", 200, None),
        (at("17:04:59"), "probabilities", 429, "429"),
        (at("17:05:00"), "plays", 200, None),
        (at("17:10:30"), "status", 429, "429"),
    ]
    window = log.between(*WINDOW)
    assert log.by_document(window) == {"plays": 1, "situation": 1, "probabilities": 2, "status": 1}


async def test_the_status_route_is_never_faulted(recording: Recording, clock: FixedClock) -> None:
    clock.moment = at("17:10:30")  # the catch-all fault's window
    app = create_replay_app(recording, clock, faults=FAULTS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        assert (await client.get("/_replay/status")).status_code == 200


async def test_a_timeout_fault_holds_the_request_until_the_client_gives_up(
    recording: Recording, clock: FixedClock, log: RequestLog
) -> None:
    clock.moment = at("17:00:00")
    # The window outlasts the client's patience: the hang ends when the client leaves.
    faults = [Fault(at("17:00:00"), at("18:00:00"), "timeout", paths="/status$")]
    real = RealClock(clock.moment)
    app = create_replay_app(recording, real, faults=faults, request_log=log)
    async with running(app, "127.0.0.1", 0, date_header=False) as base:
        async with httpx.AsyncClient(base_url=base, timeout=0.3) as http:
            started = asyncio.get_running_loop().time()
            with pytest.raises(httpx.ReadTimeout):
                await http.get(STATUS)
            assert asyncio.get_running_loop().time() - started < 2
            assert (await http.get(PLAYS)).status_code == 200  # other paths answer at once
        for _ in range(200):  # the server notices the disconnect (bounded)
            if len(log.entries) == 2:
                break
            await asyncio.sleep(0.01)
    assert sorted((document_of(e.path), e.status, e.fault) for e in log.entries) == [
        ("plays", 200, None),
        ("status", 0, "timeout"),  # abandoned by its client
    ]


async def test_a_timeout_fault_that_ends_first_answers_504(
    recording: Recording, log: RequestLog
) -> None:
    real = RealClock(at("17:00:00"), speed=600)  # the 5-minute window passes in 0.5 s
    faults = [Fault(at("17:00:00"), at("17:05:00"), "timeout")]
    app = create_replay_app(recording, real, faults=faults, request_log=log)
    async with (
        running(app, "127.0.0.1", 0, date_header=False) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        answer = await http.get(STATUS)
    assert answer.status_code == 504
    assert [(e.status, e.fault) for e in log.entries] == [(504, "timeout")]


class RealClock:
    """A replay clock running `speed` times real time from `origin` (ScaledClock's behaviour,
    restated so these tests do not depend on its start time)."""

    def __init__(self, origin: datetime, speed: float = 1.0) -> None:
        self.origin, self.speed = origin, speed
        self.started = asyncio.get_running_loop().time()

    def now(self) -> datetime:
        elapsed = asyncio.get_running_loop().time() - self.started
        return self.origin + timedelta(seconds=elapsed * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"kind": "502"}, "fault kind must be one of"),
        ({"end": at("16:00:00")}, "must end after it starts"),
        ({"paths": "(unclosed"}, "missing \\)"),
        ({"start": datetime(2025, 8, 23, 17)}, "timezone-aware"),
    ],
)
def test_a_bad_fault_is_refused_at_once(kwargs: dict[str, Any], says: str) -> None:
    fields: dict[str, Any] = {"start": at("17:00:00"), "end": at("17:05:00"), "kind": "500"}
    with pytest.raises(Exception, match=says):
        Fault(**{**fields, **kwargs})


def test_the_first_matching_fault_wins_and_documents_are_named() -> None:
    assert fault_at(FAULTS, PLAYS, at("17:01:00")) is FAULTS[0]
    assert fault_at(FAULTS, STATUS, at("17:01:00")) is None
    assert fault_at(FAULTS, STATUS, at("17:10:00")) is FAULTS[3]
    assert document_of(STATUS) == "status"
    assert document_of(COMPETITION) == "competition"
    assert document_of(f"{COMPETITION}/competitors/2306/leaders") == "leaders"
    assert document_of("/v2/sports/football/leagues/nfl/events/1") == "event"
    assert document_of("/v2/sports/football/leagues/nfl/seasons/2025/teams/66") == "team"
    assert document_of("/apis/site/v2/sports/football/nfl/scoreboard") == (
        "/apis/site/v2/sports/football/nfl/scoreboard"
    )
    entry = LoggedRequest(at("17:00:00"), PLAYS, 200)
    assert entry.fault is None
