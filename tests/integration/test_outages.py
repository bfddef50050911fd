"""Upstream outages never kill a live game: real recorded games replayed through outages of 5, 15
and 45 minutes of every kind (500s, timeouts, HTML error pages, truncated JSON, 403 blocks), in
every phase (pregame, mid-quarter, halftime, through the final whistle), with the edge and the
seed fetch policies. Each stream ends Completed with every recorded play and probability point
once, in game order; the log says when each document started failing and when it recovered, not
a line per attempt.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from logs import in_game_order
from pressbox.domain.events import EventType
from pressbox.domain.lifecycle import StreamStatus
from pressbox.replay import Recording, load_recording
from pressbox.replay.faults import Fault, FaultKind
from pressbox.replay.plan import ReplayPlan, plan_replay
from replays import Run, outage, replay

NCAAF = "401756846"
COMPETITION = f"/v2/sports/football/leagues/college-football/events/{NCAAF}/competitions/{NCAAF}"
NBA = "games/nba-401772994/summary.json"
SPEED = 500  # at 1000x a loaded machine (two test processes) served too few requests per fault
#: The drives document (736 KB) and the game's unrecorded leaders polled rarely (as in
#: test_lifecycle_replay.py); a timeout is 250 s of the game at 1000x.
SETTINGS = {
    "cadences": {"college-football": {"drives": 600.0, "leaders": 600.0}},
    "http_timeout": 0.25,
}
EVERY_KIND: Sequence[FaultKind] = ("500", "timeout", "html", "truncated", "403")
#: Each replay starts this long before its outage: the stream joins the game live and reads what
#: came before at once, so the replay's time goes to the outage and what follows it, not to hours
#: of the game before it; before the recording's first answer (pregame), the stream is up and
#: asking (404s) when the outage begins.
JOIN = timedelta(minutes=10)


def at(day: str, hms: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hms}+00:00")


def ncaaf(hms: str) -> datetime:
    return at("2025-08-23", hms)


@pytest.fixture(scope="module")
def recording(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


@pytest.fixture(scope="module")
def recorded(recording: Recording) -> tuple[list[str], int]:
    """The recording's plays in game order and its number of probability points (final
    documents, each one page)."""
    plays = json.loads(recording.history(f"{COMPETITION}/plays")[-1].body)
    points = json.loads(recording.history(f"{COMPETITION}/probabilities")[-1].body)
    ordered = sorted(plays["items"], key=lambda p: int(p["sequenceNumber"]))
    return [p["id"] for p in ordered], len(points["items"])


@pytest.fixture(scope="module")
def nba(recordings_dir: Path) -> ReplayPlan:
    return plan_replay([recordings_dir / NBA])


def assert_every_event_once(run: Run, plays: list[str], points: int) -> None:
    """Completed, every play and probability point exactly once, gap-free, in game order."""
    assert run.result is StreamStatus.COMPLETED, run.stream.failure_reason
    assert run.stream.failure_reason is None and run.stream.failure_cause is None
    assert "Failed" not in {s.status for s in run.seen}
    added = [e.data["id"] for e in run.events if e.type is EventType.PLAY_ADDED]
    assert len(added) == len(set(added)) == len(plays) and set(added) == set(plays)
    probabilities = [e.data["id"] for e in run.events if e.type is EventType.PROBABILITY]
    assert len(probabilities) == len(set(probabilities)) == points
    assert [e.seq for e in run.events] == list(range(1, len(run.events) + 1))
    ordered, _ = in_game_order(run.events)
    assert ordered == plays  # the snapshot's (and the UI's) order


def assert_degraded_not_failed(run: Run, faults: Sequence[Fault]) -> None:
    """The outage answered requests, degraded the stream (never Failed) and healed."""
    start, end = faults[0].start, faults[-1].end
    faulted = [e for e in run.log.entries if e.fault is not None]
    assert {e.fault for e in faulted} == {f.kind for f in faults}, Counter(e.fault for e in faulted)
    during = run.seen_between(start, end)
    assert during and any(s.degraded for s in during), during[:5]
    assert {s.status for s in during} <= {"Scheduled", "AwaitingStart", "Active", "Paused"}


def assert_sane_log(caplog: pytest.LogCaptureFixture, run: Run) -> None:
    """One warning per document as it starts failing and one as it recovers: a handful of lines
    per document, not one per failed attempt."""
    lines = [r.getMessage() for r in caplog.records if r.name == "pressbox.streaming.health"]
    failing = Counter(m.split(": ")[1].removesuffix(" failing") for m in lines if " failing:" in m)
    recovered = Counter(
        match[1] for m in lines if (match := re.search(r": (\w+) recovered after \d+ failed", m))
    )
    attempts = sum(e.fault is not None for e in run.log.entries)
    assert failing["status"] >= 1 or failing["discovery"] >= 1, lines
    # Nothing but those two lines (a 404 of a document not published yet is INFO), ...
    assert len(lines) == failing.total() + recovered.total(), lines
    # ... a document fails once per outage (and, rarely, once more for a slow answer at 1000x),
    assert max(failing.values()) <= 3, failing
    assert failing.total() < attempts, (failing, attempts)
    # ... and each recovery says how many attempts failed.
    for document, count in recovered.items():
        assert count <= failing[document], (document, recovered, failing)


@pytest.mark.parametrize(
    ("phase", "start", "minutes", "kinds"),
    [
        # From the first response on: discovery and the status fail before the kickoff.
        ("pregame", ncaaf("16:05:36"), 15, ("500", "html", "truncated")),
        # The 2nd quarter to the end of the half: 37 plays and 40 points appear meanwhile.
        ("mid-quarter", ncaaf("17:00:00"), 45, EVERY_KIND),
        ("halftime", ncaaf("17:40:00"), 15, ("403", "truncated", "html")),
        ("3rd-quarter", ncaaf("18:10:00"), 5, ("truncated", "403")),
        # Through the final whistle (19:46:27): the stream learns of it after the outage.
        ("4th-quarter", ncaaf("19:05:00"), 45, EVERY_KIND),
    ],
)
async def test_a_football_game_rides_out_an_outage(
    tmp_path: Path,
    recording: Recording,
    recorded: tuple[list[str], int],
    caplog: pytest.LogCaptureFixture,
    phase: str,
    start: datetime,
    minutes: int,
    kinds: Sequence[FaultKind],
) -> None:
    caplog.set_level(logging.WARNING, logger="pressbox.streaming.health")
    faults = outage(start, minutes, kinds)
    run = await replay(tmp_path / "db", recording, SPEED, faults, start - JOIN, **SETTINGS)
    assert_every_event_once(run, *recorded)
    assert_degraded_not_failed(run, faults)
    assert_sane_log(caplog, run)


async def test_a_football_game_rides_out_an_outage_with_the_seed_policy(
    tmp_path: Path,
    recording: Recording,
    recorded: tuple[list[str], int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The seed policy reads every document whole on its cadence: the same outcome."""
    caplog.set_level(logging.WARNING, logger="pressbox.streaming.health")
    start = ncaaf("17:00:00")
    faults = outage(start, 45, EVERY_KIND)
    run = await replay(
        tmp_path / "db", recording, SPEED, faults, start - JOIN, fetch_policy="seed", **SETTINGS
    )
    assert_every_event_once(run, *recorded)
    assert_degraded_not_failed(run, faults)
    assert_sane_log(caplog, run)


@pytest.mark.parametrize(
    ("policy", "start", "minutes"),
    [
        # Knicks at Pacers: the 3rd quarter (edge policy, the scoreboard its sentinel) ...
        ("edge", at("2025-06-01", "01:30:00"), 15),
        # ... and from the 4th quarter through the final buzzer (seed policy).
        ("seed", at("2025-06-01", "02:00:00"), 45),
    ],
)
async def test_a_basketball_game_rides_out_an_outage(
    tmp_path: Path,
    nba: ReplayPlan,
    caplog: pytest.LogCaptureFixture,
    policy: str,
    start: datetime,
    minutes: int,
) -> None:
    caplog.set_level(logging.WARNING, logger="pressbox.streaming.health")
    (record,) = nba.records
    faults = outage(start, minutes, EVERY_KIND)
    run = await replay(
        tmp_path / "db", nba, SPEED, faults, start - JOIN, fetch_policy=policy, http_timeout=0.25
    )
    plays = [play.id for play in record.plays]
    assert_every_event_once(run, plays, len(record.probabilities))
    assert len(plays) == 472
    assert_degraded_not_failed(run, faults)
    assert_sane_log(caplog, run)
