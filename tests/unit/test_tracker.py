"""The tracker over the real recorded documents of Iowa State at Kansas State (2025-08-23)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.lifecycle import StreamStatus, status_for_phase
from pressbox.domain.tracker import Tracker
from pressbox.errors import UpstreamDataError
from pressbox.replay import RecordedResponse, Recording, load_recording

COMPETITION = "/v2/sports/football/leagues/college-football/events/401756846/competitions/401756846"


@pytest.fixture(scope="module")
def recording(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


def history(recording: Recording, document: str) -> list[RecordedResponse]:
    return recording.history(f"{COMPETITION}/{document}")


def doc(kind: DocumentKind, response: RecordedResponse) -> Document:
    return Document.parse(kind, response.body, response.recorded_at)


def test_every_play_of_the_last_plays_response_is_added_exactly_once(recording: Recording) -> None:
    tracker = Tracker()
    events = [
        e for r in history(recording, "plays") for e in tracker.apply(doc(DocumentKind.PLAYS, r))
    ]
    added = [e.data["id"] for e in events if e.type is EventType.PLAY_ADDED]
    last = json.loads(history(recording, "plays")[-1].body)
    assert len(last["items"]) == 88
    assert sorted(added) == sorted(item["id"] for item in last["items"])
    assert len(added) == len(set(added))
    keys = [e.key for e in events]
    assert len(keys) == len(set(keys))


def test_status_snapshots_drive_the_lifecycle(recording: Recording) -> None:
    tracker = Tracker()
    stream = StreamStatus.SCHEDULED
    seen = []
    for response in history(recording, "status"):
        events = tracker.apply(doc(DocumentKind.STATUS, response))
        assert [e.type for e in events] == [EventType.STATUS], response.name
        assert tracker.phase is not None
        stream = status_for_phase(stream, tracker.phase)
        seen.append((response.name, events[0].data["name"], str(tracker.phase), str(stream)))
    assert len(seen) == 18
    phases = {name: (status, phase, stream) for name, status, phase, stream in seen}
    assert phases["00_InProgressPriorToKickoff"] == ("STATUS_IN_PROGRESS", "live", "Active")
    # ESPN reports quarter ends as STATUS_IN_PROGRESS with 0:00 and "End of ...": a break.
    # The stream pauses (document workers stop) for each, and resumes when play does.
    for name in ("04_InProgress_Q1_0000", "10_InProgress_Q2_0000", "15_InProgress_Q3_0000"):
        assert phases[name] == ("STATUS_IN_PROGRESS", "break", "Paused"), name
    assert phases["11_InProgress_Halftime"] == ("STATUS_HALFTIME", "halftime", "Paused")
    assert phases["12_InProgress_Q3_1500"][1:] == ("live", "Active")
    assert phases["17_Final"] == ("STATUS_FINAL", "final", "Completed")
    live = [name for name, _, phase, _ in seen if phase == "live"]
    assert len(live) == 13


def test_unchanged_bodies_yield_nothing(recording: Recording) -> None:
    tracker = Tracker()
    for kind, document in (
        (DocumentKind.STATUS, "status"),
        (DocumentKind.SITUATION, "situation"),
        (DocumentKind.PLAYS, "plays"),
        (DocumentKind.PROBABILITIES, "probabilities"),
    ):
        response = history(recording, document)[-1]
        assert tracker.apply(doc(kind, response)), kind
        assert tracker.apply(doc(kind, response)) == [], kind


def test_same_content_in_a_new_body_yields_nothing(recording: Recording) -> None:
    """A re-serialised body (new digest, same data) produces no event either."""
    tracker = Tracker()
    response = history(recording, "situation")[0]
    tracker.apply(doc(DocumentKind.SITUATION, response))
    reformatted = json.dumps(json.loads(response.body), indent=2).encode()
    again = Document.parse(DocumentKind.SITUATION, reformatted, response.recorded_at)
    assert tracker.apply(again) == []


def test_a_corrected_play_yields_play_corrected(recording: Recording) -> None:
    tracker = Tracker()
    response = history(recording, "plays")[0]
    tracker.apply(doc(DocumentKind.PLAYS, response))
    body = json.loads(response.body)
    body["items"][3]["text"] = body["items"][3]["text"] + " (corrected)"
    body["items"][3]["modified"] = "2025-08-23T17:00Z"
    events = tracker.apply(
        Document.parse(DocumentKind.PLAYS, json.dumps(body).encode(), response.recorded_at)
    )
    assert [e.type for e in events] == [EventType.PLAY_CORRECTED]
    assert events[0].data["id"] == body["items"][3]["id"]
    assert events[0].data["previous_text"] + " (corrected)" == events[0].data["text"]


def test_probabilities_are_identified_by_play_not_by_repeating_sequence_numbers(
    recording: Recording,
) -> None:
    tracker = Tracker()
    events = []
    for response in history(recording, "probabilities"):
        events += tracker.apply(doc(DocumentKind.PROBABILITIES, response))
    last = json.loads(history(recording, "probabilities")[-1].body)
    assert len(events) == len(last["items"]) == 147
    assert len({e.data["sequence"] for e in events}) < 147  # ESPN repeats sequenceNumbers
    assert all(
        0 <= e.data["home"] <= 1 and abs(e.data["home"] + e.data["away"] + e.data["tie"] - 1) < 1e-3
        for e in events
    )


def test_score_comes_from_the_last_play(recording: Recording) -> None:
    tracker = Tracker()
    events = tracker.apply(doc(DocumentKind.PLAYS, history(recording, "plays")[-1]))
    scores = [e.data for e in events if e.type is EventType.SCORE]
    assert scores == [{"home": 7, "away": 7}]


def test_restore_from_the_log_continues_without_duplicates(recording: Recording) -> None:
    first = Tracker()
    plays = history(recording, "plays")
    events = first.apply(doc(DocumentKind.PLAYS, plays[0]))
    log = [StoredEvent(i + 1, e.type, e.key, e.at, e.data) for i, e in enumerate(events)]
    resumed = Tracker()
    resumed.restore(log)
    more = resumed.apply(doc(DocumentKind.PLAYS, plays[-1]))
    added = Counter(e.type for e in more)[EventType.PLAY_ADDED]
    assert added == 88 - 47
    assert {e.key for e in more}.isdisjoint(e.key for e in events)


def test_a_body_that_is_not_json_is_a_clear_upstream_error() -> None:
    from datetime import UTC, datetime

    with pytest.raises(UpstreamDataError, match="status document is not JSON"):
        Document.parse(DocumentKind.STATUS, b"<html>503</html>", datetime.now(UTC))


def test_a_status_of_the_wrong_shape_is_a_clear_upstream_error() -> None:
    from datetime import UTC, datetime

    tracker = Tracker()
    with pytest.raises(UpstreamDataError, match="status document has an unexpected shape"):
        tracker.apply(Document.parse(DocumentKind.STATUS, b'{"clock": 1}', datetime.now(UTC)))


def test_malformed_play_items_are_skipped_not_fatal(recording: Recording) -> None:
    response = history(recording, "plays")[0]
    body = json.loads(response.body)
    del body["items"][0]["id"]
    events = Tracker().apply(
        Document.parse(DocumentKind.PLAYS, json.dumps(body).encode(), response.recorded_at)
    )
    assert Counter(e.type for e in events)[EventType.PLAY_ADDED] == 46
