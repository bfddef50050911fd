"""The HAR writer: entries as they come, unchanged bodies skipped, a cut-short file repaired."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pressbox.clock import ScaledClock
from pressbox.replay import load_recording
from pressbox.replay.capture import CapturingTransport, HarWriter

STATUS = "/v2/sports/nba/leagues/nba/events/1/competitions/1/status"


def answer(request: httpx.Request) -> httpx.Response:
    count = int(request.url.params.get("n", "0"))
    body = json.dumps({"type": {"name": "STATUS_IN_PROGRESS"}, "clock": count // 2}).encode()
    headers = {"Date": f"Sat, 31 May 2025 00:10:0{count} GMT", "Cache-Control": "max-age=5"}
    return httpx.Response(200, content=body, headers=headers)


async def capture(path: Path, polls: int) -> HarWriter:
    writer = HarWriter(path)
    clock = ScaledClock(datetime(2025, 5, 31, tzinfo=UTC))
    transport = CapturingTransport(writer, clock, httpx.MockTransport(answer))
    async with httpx.AsyncClient(transport=transport, base_url="http://espn.test") as client:
        for n in range(polls):
            response = await client.get(STATUS, params={"n": str(n)})
            assert response.json()["clock"] == n // 2
    writer.close()
    return writer


async def test_unchanged_bodies_are_not_written_twice(tmp_path: Path) -> None:
    writer = await capture(tmp_path / "a.har", polls=6)
    assert (writer.entries, writer.skipped_unchanged) == (6, 0)  # ?n= differs: distinct URLs
    har = json.loads((tmp_path / "a.har").read_text())
    assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == 6
    entry = har["log"]["entries"][0]
    assert entry["response"]["status"] == 200 and entry["request"]["method"] == "GET"


async def test_repeated_body_of_the_same_url_is_skipped(tmp_path: Path) -> None:
    writer = HarWriter(tmp_path / "b.har")
    entry = {"request": {}, "response": {}}
    writer.add(entry, "http://x/a", b"same")
    writer.add(entry, "http://x/a", b"same")
    writer.add(entry, "http://x/b", b"same")
    writer.add(entry, "http://x/a", b"changed")
    writer.close()
    assert (writer.entries, writer.skipped_unchanged) == (3, 1)


async def test_a_file_cut_short_still_loads_with_what_was_captured(tmp_path: Path) -> None:
    path = tmp_path / "cut.har"
    await capture(path, polls=5)
    text = path.read_text()
    path.write_text(text[: len(text) - 30])  # as if the process had died writing the last entry
    recording = load_recording(path)
    assert len(recording) == 4
    assert recording.start == datetime(2025, 5, 31, 0, 10, 0, tzinfo=UTC)


async def test_a_closed_file_loads_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "full.har"
    await capture(path, polls=5)
    recording = load_recording(path)
    assert len(recording) == 5
    found = recording.lookup(STATUS, "n=4", datetime(2025, 5, 31, 0, 10, 9, tzinfo=UTC))
    assert found is not None and json.loads(found.body)["clock"] == 2


def test_a_foreign_broken_file_is_still_an_error(tmp_path: Path) -> None:
    from pressbox.errors import RecordingError

    path = tmp_path / "foreign.har"
    path.write_text('{"log": {"entries": [')
    with pytest.raises(RecordingError, match="not a JSON file"):
        load_recording(path)
