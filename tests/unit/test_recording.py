"""The recording model and its loaders, on the real NCAAF Postman capture (event 401756846)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pressbox.errors import RecordingError
from pressbox.replay import RecordedResponse, Recording, load_recording
from pressbox.replay.postman import recording_from_postman
from pressbox.replay.recording import normalise_query, split_url

COMPETITION = "/v2/sports/football/leagues/college-football/events/401756846/competitions/401756846"
STATUS = f"{COMPETITION}/status"
SITUATION = f"{COMPETITION}/situation"
PLAYS = f"{COMPETITION}/plays"
PROBABILITIES = f"{COMPETITION}/probabilities"


def at(hms: str) -> datetime:
    """A time on game day, 2025-08-23, UTC."""
    return datetime.fromisoformat(f"2025-08-23T{hms}+00:00")


@pytest.fixture(scope="module")
def postman_file(recordings_dir: Path) -> Path:
    return (
        recordings_dir
        / "espn-ncaaf-401756846-postman"
        / "Football.Ncaa.Espn.Event.postman_collection.json"
    )


@pytest.fixture(scope="module")
def recording(postman_file: Path) -> Recording:
    return load_recording(postman_file)


# --- query normalisation -------------------------------------------------------------------------


def test_broken_second_question_mark_gives_the_same_key() -> None:
    assert normalise_query("lang=en?limit=9") == normalise_query("lang=en") == ()


def test_paging_and_language_are_dropped_other_params_kept_sorted() -> None:
    key = normalise_query("?lang=en&region=us&limit=5&page=2&source=x&dates=20250823")
    assert key == (("dates", "20250823"), ("source", "x"))
    assert normalise_query({"source": "x", "dates": "20250823", "limit": "1"}) == key


def test_split_url_keeps_host_and_decodes_path() -> None:
    target = split_url("https://sports.core.api.espn.com/v2/a%20b/status?lang=en?limit=9")
    assert (target.host, target.path, target.query) == (
        "sports.core.api.espn.com",
        "/v2/a b/status",
        (),
    )


# --- the Postman loader on the real capture ------------------------------------------------------


def test_postman_counts_per_document(recording: Recording) -> None:
    assert [len(recording.history(path)) for path in (STATUS, SITUATION, PLAYS, PROBABILITIES)] == [
        18,
        21,
        3,
        6,
    ]
    assert len(recording) == 64
    assert recording.skipped == 0


def test_status_responses_with_broken_urls_share_the_key(recording: Recording) -> None:
    names = [response.name for response in recording.history(STATUS, "lang=en?limit=9")]
    assert names[0] == "00_InProgressPriorToKickoff"
    # 15..17 were saved from `status?lang=en?limit=9`, the others from `status?lang=en`.
    assert names[-3:] == ["15_InProgress_Q3_0000", "16_InProgress_Q4_1101", "17_Final"]


def test_start_and_end_span_the_capture(recording: Recording) -> None:
    assert recording.start == datetime(2025, 8, 23, 16, 5, 36, tzinfo=UTC)
    assert recording.end == datetime(2025, 8, 23, 19, 46, 40, tzinfo=UTC)


def test_recorded_response_fields(recording: Recording) -> None:
    response = recording.lookup(STATUS, "lang=en", at("16:10:13"))
    assert isinstance(response, RecordedResponse)
    assert (response.method, response.host, response.path, response.query) == (
        "GET",
        "sports.core.api.espn.com",
        STATUS,
        (),
    )
    assert response.status == 200
    assert response.header("cache-control") == "max-age=2, stale-while-revalidate=7200"
    assert json.loads(response.body)["displayClock"] == "14:24"


def test_paths_lists_every_document_once(recording: Recording) -> None:
    paths = recording.paths()
    assert len(paths) == 11
    assert paths == sorted(set(paths))
    assert STATUS in paths


# --- lookup semantics ----------------------------------------------------------------------------


def test_lookup_before_the_first_status_is_none(recording: Recording) -> None:
    assert recording.lookup(STATUS, "lang=en", at("16:07:07")) is None


def test_lookup_at_exactly_a_recorded_time_gives_that_response(recording: Recording) -> None:
    response = recording.lookup(STATUS, "lang=en", at("16:10:13"))
    assert response is not None
    assert response.name == "01_InProgressPostKickoff"


def test_lookup_between_gives_the_latest_earlier_response(recording: Recording) -> None:
    response = recording.lookup(STATUS, {"lang": "en", "limit": "9"}, at("16:22:52"))
    assert response is not None
    assert response.name == "01_InProgressPostKickoff"
    after_end = recording.lookup(STATUS, "", at("23:00:00"))
    assert after_end is not None
    assert after_end.name == "17_Final"


def test_lookup_of_other_keys_is_none(recording: Recording) -> None:
    assert recording.lookup(STATUS, "source=other", at("18:00:00")) is None
    assert recording.lookup(f"{COMPETITION}/odds", "", at("18:00:00")) is None


def test_lookup_needs_an_aware_time(recording: Recording) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        recording.lookup(STATUS, "", datetime(2025, 8, 23, 18))


# --- the HAR loader ------------------------------------------------------------------------------


def _har_entry(response: RecordedResponse, *, base64_body: bool, with_date: bool) -> dict[str, Any]:
    headers = [{"name": k, "value": v} for k, v in response.headers]
    if not with_date:
        headers = [h for h in headers if h["name"].lower() != "date"]
    content: dict[str, Any] = {"mimeType": "application/json;charset=utf-8"}
    if base64_body:
        content |= {"text": base64.b64encode(response.body).decode(), "encoding": "base64"}
    else:
        content["text"] = response.body.decode("utf-8")
    return {
        "startedDateTime": response.recorded_at.isoformat().replace("+00:00", "Z"),
        "comment": response.name,
        "request": {"method": "GET", "url": f"https://{response.host}{response.path}?lang=en"},
        "response": {"status": response.status, "headers": headers, "content": content},
    }


def _without_headers(response: RecordedResponse) -> RecordedResponse:
    return replace(response, headers=())


def test_har_loads_to_the_same_model(recording: Recording, tmp_path: Path) -> None:
    originals = [
        recording.history(STATUS)[1],
        recording.history(PLAYS)[-1],
        recording.history(SITUATION)[0],
    ]
    entries = [
        _har_entry(originals[0], base64_body=False, with_date=True),
        _har_entry(originals[1], base64_body=True, with_date=True),
        _har_entry(originals[2], base64_body=False, with_date=False),
    ]
    har_file = tmp_path / "capture.har"
    har_file.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))

    loaded = load_recording(har_file)

    assert [_without_headers(r) for r in loaded.responses] == [
        _without_headers(r) for r in sorted(originals, key=lambda r: r.recorded_at)
    ]
    assert loaded.responses[0].headers == originals[0].headers
    plays = loaded.lookup(PLAYS, "limit=999", at("18:00:00"))
    assert plays is not None
    assert json.loads(plays.body)["count"] == 88


def test_har_skips_entries_without_a_url_or_time(tmp_path: Path) -> None:
    good = {
        "startedDateTime": "2025-08-23T16:00:00Z",
        "request": {"method": "GET", "url": "http://example.test/a"},
        "response": {"status": 200, "headers": [], "content": {"text": "{}"}},
    }
    no_time = {**good, "startedDateTime": None}
    no_url = {**good, "request": {"method": "GET"}}
    har_file = tmp_path / "partial.har"
    har_file.write_text(json.dumps({"log": {"entries": [good, no_time, no_url]}}))
    loaded = load_recording(har_file)
    assert (len(loaded), loaded.skipped) == (1, 2)
    assert loaded.start == datetime(2025, 8, 23, 16, tzinfo=UTC)


# --- errors --------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="not found"):
        load_recording(tmp_path / "nope.json")


def test_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(RecordingError, match="not a JSON file.*Postman.*HAR"):
        load_recording(bad)


def test_unknown_format_names_the_supported_ones(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"info": {"schema": "collection/v2.0.0"}, "item": []}))
    with pytest.raises(RecordingError, match=r"unknown recording format.*Postman.*v2\.1.*HAR"):
        load_recording(other)


def test_postman_parser_refuses_other_documents() -> None:
    with pytest.raises(RecordingError, match="not a Postman collection v2.1"):
        recording_from_postman({"log": {"entries": []}})


def test_postman_without_usable_responses(tmp_path: Path) -> None:
    saved = {"name": "x", "code": 200, "header": [], "body": "{}"}
    collection = {
        "info": {"schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "folder", "item": [{"name": "r", "request": {}, "response": [saved]}]}],
    }
    empty = tmp_path / "empty.postman_collection.json"
    empty.write_text(json.dumps(collection))
    with pytest.raises(RecordingError, match=r"empty\.postman_collection\.json.*1 skipped"):
        load_recording(empty)
