"""The streamer's failure paths against a fake ESPN (httpx.MockTransport) serving real bodies."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from pressbox.bus import MemoryBus
from pressbox.clock import ScaledClock
from pressbox.domain.documents import DocumentKind
from pressbox.domain.events import EventType
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.sports import SEED_FOOTBALL_CADENCES, SportProfile
from pressbox.replay import Recording, load_recording
from pressbox.sources.budget import RequestBudget
from pressbox.sources.circuit import CircuitState
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import HttpClient
from pressbox.store import GameInfo, Store, StreamRecord, TeamInfo
from pressbox.store.migrate import upgrade
from pressbox.streaming.streamer import REDISCOVER_EVERY, Streamer, StreamLimits

GAME = "401756846"
EVENT = f"/v2/sports/football/leagues/college-football/events/{GAME}"
COMPETITION = f"{EVENT}/competitions/{GAME}"
SPEED = 1000
#: The seed cadences without drives, whose 736 KB body would only slow these tests down.
PROFILE = SportProfile(
    "football",
    "college-football",
    cadences={k: v for k, v in SEED_FOOTBALL_CADENCES.items() if k is not DocumentKind.DRIVES},
)
WORKERS = {f"{GAME}:{kind}" for kind in PROFILE.cadences}


class FakeEspn:
    """ESPN's core API for one game: recorded bodies, and whatever failure a test sets."""

    def __init__(self, recording: Recording) -> None:
        def bodies(path: str) -> list[bytes]:
            return [r.body for r in recording.history(path)]

        status = bodies(f"{COMPETITION}/status")
        names = [json.loads(body)["type"]["name"] for body in status]
        details = [json.loads(body)["type"]["detail"] for body in status]
        # In play: in progress, and not a period's end (a break pauses the document workers).
        self.live = [
            b
            for b, n, d in zip(status, names, details, strict=True)
            if n == "STATUS_IN_PROGRESS" and not d.startswith("End of")
        ]
        self.final = status[names.index("STATUS_FINAL")]
        #: Status bodies served in turn, round and round (one body: the game stands still).
        self.status = self.live[:1]
        self.competitions = bodies(COMPETITION)  # [0] lacks `probabilities` and `leaders` links
        self.competition = self.competitions[1]
        self.bodies = {
            "event": bodies(EVENT)[0],
            **{doc: bodies(f"{COMPETITION}/{doc}")[0] for doc in ("situation", "plays")},
            "probabilities": bodies(f"{COMPETITION}/probabilities")[0],
            # The game's own leaders were not recorded; a team's have the same shape.
            "leaders": bodies(f"{COMPETITION}/competitors/2306/leaders")[0],
        }
        self.failing: dict[str, httpx.Response] = {}
        self.requests: Counter[str] = Counter()

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        doc = {EVENT: "event", COMPETITION: "competition"}.get(path)
        doc = doc or path.removeprefix(f"{COMPETITION}/")
        self.requests[doc] += 1
        if doc in self.failing:
            return self.failing[doc]
        if doc == "status":
            return self.ok(self.status[(self.requests[doc] - 1) % len(self.status)])
        body = self.competition if doc == "competition" else self.bodies.get(doc)
        if body is None or request.url.params.get("page", "1") != "1":
            return httpx.Response(404, json={"error": {"code": 404}})
        return self.ok(body)

    @staticmethod
    def ok(body: bytes) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})


@dataclass
class Harness:
    fake: FakeEspn
    store: Store
    espn: EspnClient
    clock: ScaledClock
    tasks: list[asyncio.Task[StreamStatus]] = field(default_factory=list)

    def streamer(self, limits: StreamLimits | None = None) -> Streamer:
        return Streamer(GAME, PROFILE, self.espn, self.store, MemoryBus(), self.clock, limits)

    def start(self, limits: StreamLimits | None = None) -> asyncio.Task[StreamStatus]:
        """Run a streamer in the background (cancelled at teardown if a test fails early)."""
        task = asyncio.create_task(self.streamer(limits).run())
        self.tasks.append(task)
        return task

    async def stream(self) -> StreamRecord:
        record = await self.store.stream(GAME)
        assert record is not None
        return record

    async def count(self, event_type: EventType) -> int:
        return sum(e.type is event_type for e in await self.store.events_since(GAME, 0, 100_000))


@pytest.fixture(scope="module")
def recording(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


@pytest.fixture
async def harness(tmp_path: Path, recording: Recording) -> AsyncIterator[Harness]:
    url = f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    clock = ScaledClock(recording.start, speed=SPEED)
    fake = FakeEspn(recording)
    budget = RequestBudget(clock, rate=1e6, burst=1000)
    transport = httpx.MockTransport(fake.handle)
    http = HttpClient("http://espn.test", clock, budget, transport=transport)
    now = clock.now()
    blank = GameInfo(GAME, "football", "college-football", "", "", None, TeamInfo(""), TeamInfo(""))
    await store.upsert_game(blank, now)
    await store.ensure_stream(GAME, now, now)
    harness = Harness(fake, store, EspnClient(http), clock)
    try:
        yield harness
    finally:
        for task in harness.tasks:
            task.cancel()
        await asyncio.gather(*harness.tasks, return_exceptions=True)
        await http.aclose()
        await store.close()
    assert not workers_alive(), "a document worker outlived its streamer"


def workers_alive() -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(f"{GAME}:")}


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, within: float = 5) -> None:
    """Poll `check` until it holds; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


async def until_active(harness: Harness) -> None:
    async def streaming() -> bool:
        stream, plays = await harness.stream(), await harness.count(EventType.PLAY_ADDED)
        return stream.status is StreamStatus.ACTIVE and workers_alive() == WORKERS and plays > 0

    await wait_until(streaming, "the stream is Active with every worker")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (httpx.Response(503, text="Service Unavailable"), "HTTP 503"),
        (httpx.Response(403, text="Forbidden"), "HTTP 403"),  # ESPN's IP block
        (httpx.Response(200, content=b'{"clock": 12'), "not JSON"),
        (httpx.Response(200, text="<html><body>Bad gateway</body></html>"), "not JSON"),
        (httpx.Response(200, json={"unexpected": True}), "unexpected shape"),
    ],
    ids=["unavailable", "refused", "torn-body", "html-page", "wrong-shape"],
)
async def test_a_status_outage_longer_than_the_stall_timeout_only_degrades_the_stream(
    harness: Harness, answer: httpx.Response, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Upstream errors of any kind, for longer than the stall timeout and far more often than
    any count: the stream stays Active (degraded), probes on a capped backoff, logs one warning
    when the status starts failing and one when it recovers, and ends Completed."""
    harness.espn.http.circuit.block = timedelta(minutes=2)
    limits = StreamLimits(stall_timeout=timedelta(minutes=20), retry_cap=30)
    task = harness.start(limits)
    await until_active(harness)
    caplog.set_level(logging.WARNING, logger="pressbox.streaming.health")
    harness.fake.failing["status"] = answer
    began, polls = harness.clock.now(), harness.fake.requests["status"]

    async def long_outage() -> bool:
        return harness.clock.now() - began > timedelta(minutes=45)

    await wait_until(long_outage, "45 minutes of outage", within=20)
    stream = await harness.stream()
    assert not task.done() and stream.status is StreamStatus.ACTIVE
    assert "status" in stream.health and says in stream.health["status"]
    tries = harness.fake.requests["status"] - polls
    # Probing all along, on a backoff capped at 30 s: at least one try a minute (a 403 opens
    # the circuit, whose probe comes every block of 2 minutes).
    # The first probe waits a whole block, and a loaded machine may land one past the 45th minute.
    assert tries >= (45 // 2 - 2 if answer.status_code == 403 else 45)
    assert tries <= 45 * 60 / 2  # and backing off
    failing = [r for r in caplog.records if "status failing" in r.getMessage()]
    assert len(failing) == 1, [r.getMessage() for r in caplog.records]

    del harness.fake.failing["status"]

    async def healed() -> bool:
        return "status" not in (await harness.stream()).health

    await wait_until(healed, "the status answers again")
    recovered = [r.getMessage() for r in caplog.records if "status recovered" in r.getMessage()]
    assert len(recovered) == 1 and "failed attempts in" in recovered[0], recovered
    assert len([r for r in caplog.records if "status" in r.getMessage()]) == 2
    harness.fake.status = [harness.fake.final]
    assert await asyncio.wait_for(task, 10) is StreamStatus.COMPLETED
    stream = await harness.stream()
    assert stream.failure_reason is None and stream.failure_cause is None
    assert await harness.count(EventType.PLAY_ADDED) == 47


async def test_a_status_standing_still_while_espn_answers_ends_the_stream_as_stalled(
    harness: Harness,
) -> None:
    """A stall counts only time in which ESPN answered: an outage longer than the stall timeout
    does not end the stream when it heals; the status standing still after it does."""
    limits = StreamLimits(stall_timeout=timedelta(minutes=30), retry_cap=30)
    task = harness.start(limits)
    await until_active(harness)
    harness.fake.failing["status"] = httpx.Response(500, text="oops")
    began = harness.clock.now()

    async def outage_past_the_stall() -> bool:
        return harness.clock.now() - began > timedelta(minutes=40)

    await wait_until(outage_past_the_stall, "an outage past the stall timeout", within=20)
    del harness.fake.failing["status"]  # ESPN answers again, and the status stands still
    healed_at = harness.clock.now()
    assert await asyncio.wait_for(task, 20) is StreamStatus.FAILED
    stream = await harness.stream()
    assert stream.failure_cause == "stall"
    reason = stream.failure_reason or ""
    assert reason.startswith("game status has not changed for ") and "while ESPN answered" in reason
    assert stream.ended_at is not None and stream.ended_at - healed_at >= timedelta(minutes=30)


async def test_a_game_that_never_ends_fails_after_the_maximum_duration(harness: Harness) -> None:
    limits = StreamLimits(max_duration=timedelta(minutes=10))
    result = await asyncio.wait_for(harness.streamer(limits).run(), 10)

    stream = await harness.stream()
    assert result is stream.status is StreamStatus.FAILED
    assert stream.failure_reason == "stream ran longer than the limit of 0:10:00"
    assert stream.failure_cause == "limit"
    assert stream.started_at is not None and stream.ended_at is not None
    # The limit counts from the streamer's start, discovery included. (No upper bound here: at
    # 1000x, a loaded machine's 60 ms scheduling delay is a minute of clock time.)
    assert stream.ended_at - stream.scheduled_at >= timedelta(minutes=10)
    assert stream.health == {}
    assert await harness.count(EventType.PLAY_ADDED) == 47  # it was live and streaming meanwhile


async def test_cancellation_stops_every_worker_and_leaves_the_stream_to_resume(
    harness: Harness,
) -> None:
    task = harness.start()

    async def streaming() -> bool:
        stream, plays = await harness.stream(), await harness.count(EventType.PLAY_ADDED)
        return stream.status is StreamStatus.ACTIVE and workers_alive() == WORKERS and plays > 0

    await wait_until(streaming, "the stream is Active with every worker")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert workers_alive() == set()
    stream = await harness.stream()
    assert stream.status is StreamStatus.ACTIVE  # a shutdown does not end a stream
    assert stream.ended_at is None and stream.failure_reason is None

    # A new streamer picks the stream up where it stood, without logging anything twice.
    before = await harness.store.events_since(GAME, 0, 100_000)
    harness.fake.status = [harness.fake.final]
    assert await asyncio.wait_for(harness.streamer().run(), 10) is StreamStatus.COMPLETED
    after = await harness.store.events_since(GAME, 0, 100_000)
    assert after[: len(before)] == before
    plays = [e.data["id"] for e in after if e.type is EventType.PLAY_ADDED]
    assert len(plays) == len(set(plays)) == 47


async def test_a_document_not_published_yet_is_said_so_and_one_that_stops_answering_degrades(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Degraded means "answered and now fails": a 404 from the start is "not published" (once,
    at INFO), and the same 404 after the document has answered degrades the stream."""
    caplog.set_level(logging.INFO, logger="pressbox.streaming.health")
    fake = harness.fake
    fake.failing["leaders"] = httpx.Response(404, json={"error": {"code": 404}})
    task = harness.start(StreamLimits())

    async def unpublished() -> bool:
        stream = await harness.stream()
        return stream.unpublished == ("leaders",) and fake.requests["leaders"] >= 6

    await wait_until(unpublished, "leaders has answered 404 six times")
    stream = await harness.stream()
    assert stream.status is StreamStatus.ACTIVE and stream.health == {}
    assert stream.to_json()["degraded"] == [] and stream.to_json()["unpublished"] == ["leaders"]
    assert f"{GAME}:leaders" in workers_alive()
    said = [r for r in caplog.records if "leaders" in r.getMessage()]
    assert [(r.levelno, "not published (yet)" in r.getMessage()) for r in said] == [
        (logging.INFO, True)
    ]

    del fake.failing["leaders"]  # published now

    async def published() -> bool:
        return (await harness.stream()).unpublished == ()

    await wait_until(published, "leaders answers")
    fake.failing["leaders"] = httpx.Response(404, json={"error": {"code": 404}})

    async def degraded() -> bool:
        return "leaders" in (await harness.stream()).health

    await wait_until(degraded, "leaders, once answering, fails")
    stream = await harness.stream()
    assert stream.status is StreamStatus.ACTIVE and set(stream.health) == {"leaders"}
    assert "HTTP 404" in stream.health["leaders"] and stream.unpublished == ()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("leaders failing: HTTP 404" in m for m in warned), warned

    fake.status = [fake.final]
    assert await asyncio.wait_for(task, 10) is StreamStatus.COMPLETED
    stream = await harness.stream()
    assert stream.status is StreamStatus.COMPLETED and stream.failure_reason is None
    assert await harness.count(EventType.PLAY_ADDED) == 47


async def test_a_link_that_appears_later_starts_its_worker(harness: Harness) -> None:
    fake = harness.fake
    fake.competition = fake.competitions[0]  # no `probabilities` link yet
    fake.status = fake.live  # the game moves on: every status poll is a change
    began = harness.clock.now()
    task = harness.start()

    async def playing_and_rereading() -> bool:
        plays = await harness.count(EventType.PLAY_ADDED)
        return plays > 0 and fake.requests["competition"] >= 3  # re-read as the game goes on

    await wait_until(playing_and_rereading, "plays stream and the competition is re-read")
    # ... but not at every status change: once per phase, then every REDISCOVER_EVERY.
    looked = fake.requests["competition"]
    allowed = 2 + (harness.clock.now() - began) / REDISCOVER_EVERY
    assert looked <= allowed and fake.requests["status"] > 3 * looked
    assert f"{GAME}:plays" in workers_alive()
    assert f"{GAME}:probabilities" not in workers_alive()
    assert fake.requests["probabilities"] == 0
    assert await harness.count(EventType.PROBABILITY) == 0

    fake.competition = fake.competitions[1]  # ESPN adds the link after kickoff

    async def probabilities() -> bool:
        return await harness.count(EventType.PROBABILITY) == 25

    await wait_until(probabilities, "probability events arrive")
    assert {f"{GAME}:probabilities", f"{GAME}:leaders"} <= workers_alive()

    fake.status = [fake.final]
    assert await asyncio.wait_for(task, 10) is StreamStatus.COMPLETED
    assert (await harness.stream()).status is StreamStatus.COMPLETED


async def test_a_worker_cancelled_between_tracking_and_commit_loses_nothing(
    harness: Harness,
) -> None:
    """The final whistle cancels workers; one that had applied a document but not yet committed
    its events must still commit them (the tracker already counts them as seen)."""
    streamer = harness.streamer()
    url = f"http://sports.core.api.espn.com{COMPETITION}/probabilities?lang=en"
    async with streamer._commit_lock:  # another commit is under way
        worker = asyncio.create_task(
            streamer.workers.fetch_and_commit(DocumentKind.PROBABILITIES, url)
        )
        for _ in range(500):  # bounded: until the document is applied and the commit waits
            if streamer.tracker._probabilities:
                break
            await asyncio.sleep(0.01)
        worker.cancel()
        await asyncio.sleep(0.05)
        assert not worker.done()  # it waits to commit what it applied
    with pytest.raises(asyncio.CancelledError):
        await worker
    assert await harness.count(EventType.PROBABILITY) == 25


async def test_a_403_pauses_every_poll_of_the_host_then_the_stream_recovers(
    harness: Harness,
) -> None:
    """ESPN's IP block: one 403 opens the host's circuit, so no document of any game is requested
    for the block period; the stream is Degraded meanwhile, never Failed, and heals itself."""
    circuit = harness.espn.http.circuit
    circuit.block = timedelta(minutes=10)  # 0.6 s at 1000x
    task = harness.start(StreamLimits())

    async def streaming() -> bool:
        stream, plays = await harness.stream(), await harness.count(EventType.PLAY_ADDED)
        return stream.status is StreamStatus.ACTIVE and plays > 0 and workers_alive() == WORKERS

    await wait_until(streaming, "the stream is Active with every worker")
    harness.fake.failing["situation"] = httpx.Response(403, text="Forbidden")

    async def circuit_open() -> bool:
        return circuit.state is CircuitState.OPEN

    await wait_until(circuit_open, "the circuit opens")
    sent = sum(harness.fake.requests.values())
    blocked_until = circuit.blocked_until
    assert blocked_until is not None
    del harness.fake.failing["situation"]  # the block lifts by the time it is probed

    async def degraded() -> bool:
        health = (await harness.stream()).health
        return "status" in health and "plays" in health

    await wait_until(degraded, "status and plays are refused by the open circuit")
    stream = await harness.stream()
    assert stream.status is StreamStatus.ACTIVE  # degraded, not failed
    assert "refused us (HTTP 403): requests paused until" in stream.health["status"]
    assert "HTTP 403" in stream.health["situation"]
    while harness.clock.now() < blocked_until - timedelta(seconds=30):
        assert sum(harness.fake.requests.values()) == sent  # nothing was sent while blocked
        await asyncio.sleep(0.01)
    assert sum(s.blocked for s in harness.espn.http.stats.by_kind.values()) >= 3

    async def healed() -> bool:
        stream = await harness.stream()
        closed = circuit.state is CircuitState.CLOSED
        return closed and stream.health == {} and stream.status is StreamStatus.ACTIVE

    await wait_until(healed, "the circuit closes and every document recovers")
    assert harness.fake.requests["situation"] > 1
    harness.fake.status = [harness.fake.final]
    assert await asyncio.wait_for(task, 10) is StreamStatus.COMPLETED
    assert (await harness.stream()).failure_reason is None


async def test_a_competition_not_yet_published_never_fails_the_stream(harness: Harness) -> None:
    """Before kickoff ESPN may answer 404 for the competition: any number of 404s do not fail
    the stream; it starts once the document appears."""
    harness.fake.failing["competition"] = httpx.Response(404, json={"error": {"code": 404}})
    task = harness.start(StreamLimits())

    async def retried() -> bool:
        return harness.fake.requests["competition"] >= 6

    await wait_until(retried, "six 404s for the competition", within=20)
    assert (await harness.stream()).status is StreamStatus.SCHEDULED
    del harness.fake.failing["competition"]

    async def active() -> bool:
        return (await harness.stream()).status is StreamStatus.ACTIVE

    await wait_until(active, "the stream is Active", within=20)
    assert not task.done()
