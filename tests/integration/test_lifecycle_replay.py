"""The stream lifecycle on the recorded game (Iowa State at Kansas State), replayed fast through the
replay server with scheduled faults: outages degrade and heal without losing an event, a delayed
start waits past the progress timeout, halftime stops the document workers.

One outage-free replay (module fixture) is the reference every faulty replay is compared with
(`test_outages.py` replays longer outages of every kind, in every phase).
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pressbox.domain.events import EventType
from pressbox.domain.lifecycle import StreamStatus
from pressbox.replay import Recording, load_recording
from pressbox.replay.faults import Fault, document_of
from replays import Run, replay

GAME = "401756846"
COMPETITION = f"/v2/sports/football/leagues/college-football/events/{GAME}/competitions/{GAME}"
#: Fast enough for a whole replay in about 15 s; the streamer then lags its cadences somewhat,
#: which costs requests, never events.
SPEED = 1000
#: The 736 KB drives document and the game's missing leaders are slow to poll and not what these
#: tests are about: polled rarely.
CADENCES = {"college-football": {"drives": 600.0, "leaders": 600.0}}
WORKER_DOCUMENTS = {"situation", "plays", "probabilities", "drives", "leaders"}
#: Documents the recording lacks before halftime (404): degraded in every run, outage or not.
UNRECORDED = {"drives", "leaders"}
#: The tests share one outage-free reference replay (a module fixture): one test process runs
#: them all (`--dist loadgroup`), so it is replayed once.
pytestmark = pytest.mark.xdist_group("lifecycle-reference")


def at(hms: str) -> datetime:
    """A time on game day, 2025-08-23, UTC."""
    return datetime.fromisoformat(f"2025-08-23T{hms}+00:00")


@pytest.fixture(scope="module")
def recording(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


@pytest.fixture(scope="module")
def reference(recording: Recording, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The outage-free replay (its own event loop: a module fixture outlives each test's)."""
    database = tmp_path_factory.mktemp("reference") / "pressbox.db"
    return asyncio.run(replay(database, recording, SPEED, cadences=CADENCES))


def assert_nothing_lost(run: Run, reference: Run) -> None:
    assert run.result is StreamStatus.COMPLETED and run.stream.failure_reason is None
    for kind in (EventType.PLAY_ADDED, EventType.PROBABILITY):
        assert run.ids(kind) == reference.ids(kind), kind
    assert len(reference.ids(EventType.PLAY_ADDED)) == 88
    assert len(reference.ids(EventType.PROBABILITY)) == 147
    assert [e.seq for e in run.events] == list(range(1, len(run.events) + 1))


def assert_degraded_then_healed(
    run: Run, start: datetime, end: datetime, reference: Run, settle: timedelta
) -> None:
    """Degraded from `settle` after the outage begins (the first failures take that long to
    show) to its end, then healed by itself."""
    # The status document never fails in the reference: here the outage is what fails it.
    assert not [s for s in reference.seen_between(start, end) if "status" in s.degraded]
    during = run.seen_between(start + settle, end)
    assert during, "the watcher saw nothing of the outage"
    # Degraded, still Active, not Failed.
    degraded = [s for s in during if "status" in s.degraded and s.status == "Active"]
    assert len(degraded) >= len(during) // 2, during
    assert {"status", "plays", "situation"} <= {doc for s in during for doc in s.degraded}
    assert all(s.status in ("Active", "Paused") for s in during), during
    # It heals by itself, well before the next break (End of 2nd, 17:37:46).
    after = run.seen_between(end, at("17:37:00"))
    healed = [s for s in after if set(s.degraded) <= UNRECORDED]
    assert healed and healed[0].status == "Active", after[:5]
    # Backoff (capped at 60 s), plus the lag of a busy machine at 1000x (seen: 10 min 22 s).
    assert healed[0].at - end < timedelta(minutes=13), healed[0]


async def test_a_five_minute_500_outage_degrades_then_heals_with_no_event_lost(
    tmp_path: Path, recording: Recording, reference: Run
) -> None:
    # Second quarter: the plays that appear during the outage (17:01:48) can only be read after.
    start, end = at("17:00:00"), at("17:05:00")
    run = await replay(
        tmp_path / "db", recording, SPEED, [Fault(start, end, "500")], cadences=CADENCES
    )
    refused = [e for e in run.log.entries if e.fault == "500"]
    assert refused and {document_of(e.path) for e in refused} >= {"status", "plays"}
    assert all(start <= e.at < end for e in refused)
    assert_degraded_then_healed(run, start, end, reference, settle=timedelta(minutes=1))
    assert_nothing_lost(run, reference)


async def test_a_timeout_outage_degrades_then_heals_with_no_event_lost(
    tmp_path: Path, recording: Recording, reference: Run
) -> None:
    # PRESSBOX_HTTP_TIMEOUT is real seconds: 0.1 s is 100 s of the game at 1000x, so a
    # 10-minute hang (0.6 s) times out each poll in it several times.
    start, end = at("17:14:00"), at("17:24:00")  # the status and situation change meanwhile
    faults = [Fault(start, end, "timeout")]
    run = await replay(
        tmp_path / "db", recording, SPEED, faults, http_timeout=0.1, cadences=CADENCES
    )
    hung = [e for e in run.log.entries if e.fault == "timeout"]
    assert len(hung) >= 4 and {document_of(e.path) for e in hung} >= {"status"}
    # A hung status poll fails only when it times out (100 s of the game), then backs off.
    assert_degraded_then_healed(run, start, end, reference, settle=timedelta(minutes=3))
    assert_nothing_lost(run, reference)


def delayed_start(recording: Recording, delay: timedelta) -> Recording:
    """The recording with a `delay` long STATUS_DELAYED before kickoff: every response comes
    `delay` later, and from the first moment on the event and competition documents are there
    and the status says the start is delayed."""
    moved = [replace(r, recorded_at=r.recorded_at + delay) for r in recording.responses]
    first = {r.path: r for r in reversed(recording.responses)}
    status = json.loads(first[f"{COMPETITION}/status"].body)
    delayed = copy.deepcopy(status)
    delayed["type"].update(
        id="7", name="STATUS_DELAYED", state="pre", description="Delayed", detail="Delayed"
    )
    early = [
        replace(first[path], recorded_at=recording.start)
        for path in (COMPETITION, f"/v2/sports/football/leagues/college-football/events/{GAME}")
    ]
    notice = replace(
        first[f"{COMPETITION}/status"],
        recorded_at=recording.start,
        body=json.dumps(delayed).encode(),
    )
    return Recording([*early, notice, *moved])


async def test_a_delayed_start_waits_past_the_progress_timeout_then_streams(
    tmp_path: Path, recording: Recording, reference: Run
) -> None:
    delay = timedelta(minutes=90)
    mutated = delayed_start(recording, delay)
    # The status stands still for 90 minutes; a live game that did would fail after 75.
    stall = timedelta(hours=1.25)
    hours = stall / timedelta(hours=1)
    run = await replay(tmp_path / "db", mutated, SPEED, stall_hours=hours, cadences=CADENCES)
    statuses = [s.status for s in run.seen]
    assert statuses[0] in ("Scheduled", "AwaitingStart") and "Failed" not in statuses
    # Seen Delayed for longer than the stall timeout (its first sighting may come late at this
    # speed on a busy machine: the span is not held to the whole delay).
    waiting = [s.at for s in run.seen if s.status == "Delayed"]
    assert waiting and waiting[-1] - waiting[0] > stall
    after = statuses[statuses.index("Delayed") :]
    assert "Active" in after and after[-1] == "Completed"
    assert [s for s in after if s not in ("Delayed", "Active", "Paused", "Completed")] == []
    status_names = [e.data["name"] for e in run.events if e.type is EventType.STATUS]
    assert status_names[0] == "STATUS_DELAYED" and status_names[-1] == "STATUS_FINAL"
    # Nothing but the status (from the league scoreboard, or the status document when the
    # board does not serve) is polled while the start is delayed.
    delayed = run.log.by_document(run.log.between(recording.start, recording.start + delay))
    asked = {"scoreboard" if d.endswith("/scoreboard") else d for d in delayed}
    assert asked & {"status", "scoreboard"}, delayed
    assert asked <= {"status", "scoreboard", "competition", "event", "team"}, delayed
    assert_nothing_lost(run, reference)


def test_halftime_stops_the_document_workers_and_play_resumes_them(reference: Run) -> None:
    log = reference.log
    status_polls = [e for e in log.entries if document_of(e.path) == "status"]
    end_of_half, halftime, third = at("17:37:46"), at("17:51:27"), at("17:58:52")
    # The window in which the streamer knew it was halftime: from its first status poll answered
    # STATUS_HALFTIME to its last one.
    answered_halftime = [e.at for e in status_polls if halftime <= e.at < third]
    assert len(answered_halftime) >= 10  # the status loop goes on (every 30 s)
    window = log.between(answered_halftime[0], answered_halftime[-1])
    assert set(log.by_document(window)) == {"status"}, log.by_document(window)
    # From "End of 2nd Quarter" on (21 minutes): the workers stop, every document is read once
    # more (nothing of the half is lost), the stream is Paused; then nothing but the status is
    # polled until play resumes. (At 1000x, on a busy machine, the stop and the reads lag the
    # status poll by up to ten minutes of the game: the stream says Paused when they are done.)
    paused_at = next(s.at for s in reference.seen if s.at >= end_of_half and s.status == "Paused")
    last_paused_poll = max(e.at for e in status_polls if e.at < third)
    assert paused_at < halftime
    settled = log.by_document(log.between(paused_at, last_paused_poll))
    assert set(settled) == {"status"}, settled
    assert settled["status"] >= 10  # the status loop alone, every 30 s
    # And the stream said so: Paused through halftime, Active again in the third quarter.
    assert {s.status for s in reference.seen_between(answered_halftime[0], third)} == {"Paused"}
    resumed = [s for s in reference.seen_between(third, at("18:30:00")) if s.status == "Active"]
    assert resumed and resumed[0].at - third < timedelta(minutes=10)  # a status poll, plus lag
    after = log.by_document(log.between(third + timedelta(minutes=1), at("18:30:00")))
    assert after["plays"] > 10 and after["situation"] > 20  # polling again


async def test_a_stream_that_starts_after_the_final_whistle_reads_the_whole_game(
    tmp_path: Path, recording: Recording, reference: Run
) -> None:
    # A runner that comes up late (or a stream scheduled late) finds the game over at its first
    # status poll: the documents are read once all the same, so the log holds the whole game.
    run = await replay(tmp_path / "db", recording, SPEED, start=at("19:50:00"), cadences=CADENCES)
    assert_nothing_lost(run, reference)
    assert {s.status for s in run.seen} <= {"Scheduled", "AwaitingStart", "Completed"}
