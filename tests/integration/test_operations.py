"""Operations: the stream table (REST and `pressbox streams`), cancel and restart behind the admin
token, and Degraded visible in the game summary and the WebSocket status. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from websockets.asyncio.client import connect

from pressbox.bus import MemoryBus
from pressbox.cli import app as cli
from pressbox.clock import ScaledClock
from pressbox.domain.lifecycle import StreamStatus
from pressbox.store import GameInfo, Store, TeamInfo
from pressbox.store.leases import Leases
from pressbox.store.migrate import upgrade
from pressbox.web import create_app
from pressbox.web.server import running

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
TOKEN = "s3cret-operator-token-0123456789"
GAMES = {"401756846": "Iowa State Cyclones at Kansas State Wildcats", "401547417": "GB at ATL"}
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def seed(store: Store) -> None:
    for n, (game_id, name) in enumerate(GAMES.items()):
        info = GameInfo(game_id, "football", "nfl", name, "", T0, TeamInfo("1"), TeamInfo("2"))
        await store.upsert_game(info, T0)
        await store.ensure_stream(game_id, T0 + timedelta(minutes=n), T0)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    store = Store.connect(db_url)
    await seed(store)
    yield store
    await store.close()


def client(store: Store, token: str = TOKEN) -> httpx.AsyncClient:
    app = create_app(store, MemoryBus(), ScaledClock(T0), heartbeat=60.0, admin_token=token)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pb.test")


async def streams(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await http.get("/api/streams")
    assert response.status_code == 200
    return {s["game_id"]: s for s in response.json()["streams"]}


async def test_the_stream_table_shows_every_stream_with_lease_health_and_reason(
    store: Store,
) -> None:
    claimed = await Leases(store).claim_due("runner-a", T0 + timedelta(seconds=5), 30.0, 1)
    assert [r.game_id for r in claimed] == ["401756846"]
    await store.set_stream_health(
        "401756846", {"plays": "HTTP 503 from ..."}, T0, unpublished=("leaders",)
    )
    await store.move_stream(
        "401547417", StreamStatus.FAILED, T0, "stream ran longer than the limit", cause="limit"
    )
    async with client(store) as http:
        table = await streams(http)
    held, failed = table["401756846"], table["401547417"]
    assert list(table) == list(GAMES)  # earliest scheduled first
    assert held == {
        "game_id": "401756846",
        "name": GAMES["401756846"],
        "league": "nfl",
        "status": "Scheduled",
        "owner": "runner-a",
        "lease_age_seconds": held["lease_age_seconds"],
        "lease_expires_at": "2025-08-23T16:00:35Z",
        "retries": 0,
        "last_poll_at": None,
        "fetches": {},
        "degraded": ["plays"],
        "unpublished": ["leaders"],
        "failure_reason": None,
        "failure_cause": None,
        "scheduled_at": "2025-08-23T16:00:00Z",
        "started_at": None,
        "ended_at": None,
    }
    # The app's clock runs from T0 in real time: the heartbeat was 5 s "ahead" of it.
    assert -5.5 <= held["lease_age_seconds"] <= 0
    assert failed["owner"] is None and failed["lease_age_seconds"] is None
    assert failed["failure_reason"] == "stream ran longer than the limit"
    assert failed["failure_cause"] == "limit"
    assert failed["status"] == "Failed" and failed["ended_at"] == "2025-08-23T16:00:00Z"

    # The streamer's upstream figures come with its owner's lease renewals.
    fetches = {"requests": 12, "bytes": 34567, "skipped": 3, "waited": 1.5}
    now = T0 + timedelta(seconds=10)
    assert await Leases(store).renew("401756846", "runner-a", now, 30.0, fetches=fetches)
    async with client(store) as http:
        assert (await streams(http))["401756846"]["fetches"] == fetches
    # The figures since the last renewal are saved with the release.
    final = {**fetches, "requests": 15}
    assert await Leases(store).release("401756846", "runner-a", fetches=final)
    async with client(store) as http:
        assert (await streams(http))["401756846"]["fetches"] == final


async def test_degraded_documents_show_in_the_snapshot_and_the_game_list(store: Store) -> None:
    await store.set_stream_health("401756846", {"plays": "HTTP 500", "leaders": "HTTP 404"}, T0)
    async with client(store) as http:
        snapshot = (await http.get("/api/games/401756846")).json()
        listed = (await http.get("/api/live/games")).json()["games"]
        assert snapshot["game"]["stream"]["degraded"] == ["leaders", "plays"]
        assert {g["id"]: g["stream"]["degraded"] for g in listed} == {
            "401756846": ["leaders", "plays"],
            "401547417": [],
        }
        await store.set_stream_health("401756846", {}, T0)  # it recovers by itself
        snapshot = (await http.get("/api/games/401756846")).json()
        assert snapshot["game"]["stream"]["degraded"] == []


async def test_the_websocket_status_says_degraded_then_live(store: Store) -> None:
    await store.set_stream_health("401756846", {"plays": "HTTP 500"}, T0)
    app = create_app(store, MemoryBus(), ScaledClock(T0), heartbeat=0.05)

    async def next_status(ws: Any) -> dict[str, Any]:
        async with asyncio.timeout(5):
            while (message := json.loads(await ws.recv()))["type"] != "status":
                pass
        return message  # type: ignore[no-any-return]

    async with (
        running(app, "127.0.0.1", 0) as base,
        connect(base.replace("http", "ws") + "/ws/live/401756846") as ws,
    ):
        status = await next_status(ws)
        assert status == {
            "type": "status",
            "v": 1,
            "stream": "Scheduled",
            "espn": "degraded",
            "degraded": ["plays"],
            "unpublished": [],
            "market": "unknown",  # no market_status in the log
            "market_detail": None,
        }
        await store.set_stream_health("401756846", {}, T0)
        for _ in range(100):  # sent again with each heartbeat
            if (status := await next_status(ws))["espn"] == "live":
                break
        assert status["espn"] == "live" and status["degraded"] == []


@pytest.mark.parametrize("path", ["/api/streams/401756846/cancel", "/api/streams/1/restart"])
async def test_without_a_configured_token_the_admin_endpoints_refuse_everyone(
    store: Store, path: str
) -> None:
    async with client(store, token="") as http:
        for headers in ({}, ADMIN, {"Authorization": "Bearer "}):
            response = await http.post(path, headers=headers)
            assert response.status_code == 403
            assert response.json() == {"detail": "admin token not configured"}
    assert (await store.stream("401756846")).status is StreamStatus.SCHEDULED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Admin-Token": TOKEN},
    ],
    ids=["missing", "longer", "shorter", "basic", "no-scheme", "other-header"],
)
async def test_a_missing_or_wrong_token_is_401(store: Store, headers: dict[str, str]) -> None:
    async with client(store) as http:
        response = await http.post("/api/streams/401756846/cancel", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "missing or wrong admin token"}
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await store.stream("401756846")).status is StreamStatus.SCHEDULED  # type: ignore[union-attr]


async def test_cancel_moves_to_canceled_and_releases_the_owner(store: Store) -> None:
    await Leases(store).claim_due("runner-a", T0, 30.0, 1)
    await store.move_stream("401756846", StreamStatus.ACTIVE, T0)
    async with client(store) as http:
        response = await http.post("/api/streams/401756846/cancel", headers=ADMIN)
        assert response.status_code == 200
        stream = response.json()["stream"]
        assert (stream["status"], stream["owner"], stream["lease_expires_at"]) == (
            "Canceled",
            None,
            None,
        )
        assert stream["ended_at"] is not None and stream["started_at"] is not None
        assert (await streams(http))["401756846"]["status"] == "Canceled"
        # Already canceled: nothing to do, same answer.
        again = await http.post("/api/streams/401756846/cancel", headers=ADMIN)
        assert again.status_code == 200 and again.json()["stream"]["status"] == "Canceled"
    # The runner lost its lease: it cannot renew it.
    assert not await Leases(store).renew("401756846", "runner-a", T0, 30.0)


async def test_cancel_of_a_finished_stream_is_409_with_the_reason(store: Store) -> None:
    await store.move_stream("401756846", StreamStatus.COMPLETED, T0)
    async with client(store) as http:
        response = await http.post("/api/streams/401756846/cancel", headers=ADMIN)
    assert response.status_code == 409
    assert response.json() == {"detail": "stream cannot go from Completed to Canceled"}


async def test_restart_schedules_a_failed_stream_now_and_clears_its_failure(store: Store) -> None:
    game = "401547417"
    await store.set_stream_owner(game, "dead-runner", T0)  # it died: runner-b takes over
    await Leases(store).claim_due("runner-b", T0 + timedelta(hours=1), 30.0, 2)
    await store.set_stream_health(game, {"status": "HTTP 500"}, T0)
    await store.move_stream(game, StreamStatus.FAILED, T0, "status failed 20 times in a row")
    before = await store.stream(game)
    assert before is not None and before.retry_count == 1 and before.owner == "runner-b"
    async with client(store) as http:
        response = await http.post(f"/api/streams/{game}/restart", headers=ADMIN)
    assert response.status_code == 200
    stream = response.json()["stream"]
    assert stream["status"] == "Scheduled"
    assert (stream["failure_reason"], stream["retries"], stream["owner"]) == (None, 0, None)
    assert (stream["started_at"], stream["ended_at"], stream["degraded"]) == (None, None, [])
    scheduled = datetime.fromisoformat(stream["scheduled_at"].replace("Z", "+00:00"))
    assert T0 <= scheduled < T0 + timedelta(minutes=1)  # now, on the app's clock
    # Due at once: a runner claims it.
    claimed = await Leases(store).claim_due("runner-c", scheduled + timedelta(seconds=1), 30, 5)
    assert game in [r.game_id for r in claimed]


@pytest.mark.parametrize("running_status", [StreamStatus.ACTIVE, StreamStatus.PAUSED])
async def test_restart_of_a_running_stream_is_409(
    store: Store, running_status: StreamStatus
) -> None:
    await store.move_stream("401756846", running_status, T0)
    async with client(store) as http:
        response = await http.post("/api/streams/401756846/restart", headers=ADMIN)
    assert response.status_code == 409
    assert response.json() == {"detail": f"stream cannot go from {running_status} to Scheduled"}


@pytest.mark.parametrize("action", ["cancel", "restart"])
async def test_an_unknown_game_is_404(store: Store, action: str) -> None:
    async with client(store) as http:
        response = await http.post(f"/api/streams/nope/{action}", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"detail": "no stream for game 'nope'"}


def test_pressbox_streams_prints_the_table_and_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    upgrade(url)

    async def prepare() -> None:
        store = Store.connect(url)
        await seed(store)
        await store.set_stream_health("401756846", {"plays": "HTTP 500"}, T0)
        await store.move_stream("401547417", StreamStatus.FAILED, T0, "gave up")
        await store.close()

    asyncio.run(prepare())
    monkeypatch.setenv("PRESSBOX_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    table = runner.invoke(cli, ["streams"])
    assert table.exit_code == 0, table.output
    assert "2 stream(s)" in table.output
    lines = table.output.splitlines()
    row = next(line for line in lines if "401756846" in line)
    assert "Scheduled" in row and "plays" in row and "08-23 16:00:00" in row
    failed = next(line for line in lines if "401547417" in line)
    assert "Failed" in failed and "gave up" in failed
    as_json = runner.invoke(cli, ["streams", "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)["streams"]
    assert [(r["game_id"], r["status"], r["degraded"]) for r in rows] == [
        ("401756846", "Scheduled", ["plays"]),
        ("401547417", "Failed", []),
    ]
