"""The replay server over HTTP (in-process ASGI), on the real NCAAF Postman capture."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fakes import FixedClock
from pressbox.clock import ScaledClock
from pressbox.replay import Recording, create_replay_app, load_recording

COMPETITION = "/v2/sports/football/leagues/college-football/events/401756846/competitions/401756846"
STATUS = f"{COMPETITION}/status"
PLAYS = f"{COMPETITION}/plays"
PROBABILITIES = f"{COMPETITION}/probabilities"


def at(hms: str) -> datetime:
    """A time on game day, 2025-08-23, UTC."""
    return datetime.fromisoformat(f"2025-08-23T{hms}+00:00")


@pytest.fixture(scope="module")
def recording(recordings_dir: Path) -> Recording:
    return load_recording(
        recordings_dir
        / "espn-ncaaf-401756846-postman"
        / "Football.Ncaa.Espn.Event.postman_collection.json"
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at("16:00:00"))


@pytest.fixture
async def client(recording: Recording, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_replay_app(recording, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        yield client


async def test_status_follows_the_replay_clock(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    seen = []
    for moment in ("16:08:00", "16:50:00", "17:52:00", "17:59:00", "19:50:00"):
        clock.moment = at(moment)
        response = await client.get(STATUS, params={"lang": "en"})
        assert response.status_code == 200
        seen.append(response.json()["type"]["name"])
    assert seen == [
        "STATUS_IN_PROGRESS",
        "STATUS_IN_PROGRESS",
        "STATUS_HALFTIME",
        "STATUS_IN_PROGRESS",
        "STATUS_FINAL",
    ]


async def test_broken_query_is_answered_like_the_clean_one(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.moment = at("18:40:00")
    clean = await client.get(f"{STATUS}?lang=en")
    broken = await client.get(f"{STATUS}?lang=en?limit=9")
    assert broken.status_code == clean.status_code == 200
    assert broken.content == clean.content
    assert clean.json()["displayClock"] == "0:00"


async def test_nothing_recorded_yet_is_404_json(client: httpx.AsyncClient) -> None:
    response = await client.get(STATUS, params={"lang": "en"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404
    assert response.headers["content-type"] == "application/json;charset=utf-8"


async def test_headers_carry_replay_time_and_recorded_cache_control(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.moment = at("16:10:13")
    first = await client.get(STATUS)
    clock.moment = at("16:10:20")
    second = await client.get(STATUS)

    assert first.headers["content-type"] == "application/json;charset=utf-8"
    assert first.headers["date"] == "Sat, 23 Aug 2025 16:10:13 GMT"
    assert second.headers["date"] == "Sat, 23 Aug 2025 16:10:20 GMT"
    assert first.headers["cache-control"] == "max-age=2, stale-while-revalidate=7200"
    assert first.headers["x-pressbox-recorded-at"] == "2025-08-23T16:10:13Z"
    assert second.content == first.content


async def test_complete_collection_is_repaged(
    client: httpx.AsyncClient, clock: FixedClock, recording: Recording
) -> None:
    clock.moment = at("18:00:00")
    recorded = recording.lookup(PLAYS, "", clock.moment)
    assert recorded is not None
    all_plays = json.loads(recorded.body)["items"]

    page4 = (await client.get(PLAYS, params={"limit": 25, "page": 4})).json()
    assert (page4["count"], page4["pageIndex"], page4["pageSize"], page4["pageCount"]) == (
        88,
        4,
        25,
        4,
    )
    assert page4["items"] == all_plays[75:]
    assert len(page4["items"]) == 13

    first_page = (await client.get(PLAYS, params={"page": 1})).json()
    assert [len(first_page["items"]), first_page["pageSize"]] == [25, 25]
    past_end = (await client.get(PLAYS, params={"limit": 25, "page": 5})).json()
    assert (past_end["items"], past_end["pageIndex"], past_end["pageCount"]) == ([], 5, 4)
    everything = (await client.get(PLAYS, params={"limit": 999})).json()
    assert (len(everything["items"]), everything["pageCount"]) == (88, 1)


async def test_unpaged_request_gets_the_recorded_bytes(
    client: httpx.AsyncClient, clock: FixedClock, recording: Recording
) -> None:
    clock.moment = at("18:00:00")
    recorded = recording.lookup(PLAYS, "", clock.moment)
    assert recorded is not None
    response = await client.get(PLAYS, params={"lang": "en"})
    assert response.content == recorded.body


async def test_partial_collection_serves_only_its_own_page(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.moment = at("16:53:00")
    first = await client.get(PROBABILITIES, params={"limit": 999})
    assert first.status_code == 200
    body = first.json()
    assert (body["count"], len(body["items"]), body["pageIndex"]) == (43, 25, 1)

    second = await client.get(PROBABILITIES, params={"limit": 25, "page": 2})
    assert second.status_code == 404
    assert second.json()["error"]["code"] == 404


async def test_non_collection_is_served_as_recorded_whatever_the_paging(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.moment = at("19:50:00")
    plain = await client.get(STATUS)
    paged = await client.get(STATUS, params={"limit": 9, "page": 3})
    assert paged.status_code == 200
    assert paged.content == plain.content


async def test_bad_paging_parameter_is_400(client: httpx.AsyncClient, clock: FixedClock) -> None:
    clock.moment = at("18:00:00")
    response = await client.get(PLAYS, params={"limit": "zero"})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["message"]


async def test_unknown_path_is_404_json(client: httpx.AsyncClient, clock: FixedClock) -> None:
    clock.moment = at("19:50:00")
    response = await client.get(f"{COMPETITION}/odds")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": f"no response recorded for {COMPETITION}/odds at 2025-08-23T19:50:00Z",
        }
    }


async def test_only_get_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.post(STATUS, content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert (await client.delete("/_replay/status")).status_code == 405


async def test_replay_status_with_a_fixed_clock(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.moment = at("17:00:00")
    response = await client.get("/_replay/status")
    assert response.json() == {
        "now": "2025-08-23T17:00:00Z",
        "start": "2025-08-23T16:05:36Z",
        "end": "2025-08-23T19:46:40Z",
        "responses": 64,
        "paths": 11,
    }


async def test_replay_status_reports_the_speed_of_a_scaled_clock(recording: Recording) -> None:
    clock = ScaledClock(recording.start, speed=60)
    transport = httpx.ASGITransport(app=create_replay_app(recording, clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        status = (await client.get("/_replay/status")).json()
    assert status["speed"] == 60.0
    assert datetime.fromisoformat(status["now"]) >= recording.start.astimezone(UTC)
