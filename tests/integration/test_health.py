"""Operations endpoints of a web process: /healthz, /readyz (database migrated and reachable,
bus reachable) and /metrics (Prometheus text from the OpenTelemetry instruments); and the
structured log lines that carry game and runner ids."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pressbox import logs
from pressbox.bus import MemoryBus, open_bus
from pressbox.clock import ScaledClock, SystemClock
from pressbox.config import load_settings
from pressbox.domain.lifecycle import StreamStatus
from pressbox.errors import UpstreamStatusError
from pressbox.metrics import metrics
from pressbox.replay.plan import plan_replay
from pressbox.replaying import prepare_streams, replay_upstream, stream_games
from pressbox.runtime import open_runtime
from pressbox.sources.budget import RequestBudget
from pressbox.sources.http import HttpClient
from pressbox.store import Store
from pressbox.store.webhooks import Webhooks
from pressbox.web import create_app
from pressbox.web.server import running
from stores import add_game, migrated_store

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/pressbox.db") as store:
        yield store


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pressbox.test") as client:
        return await client.get(path)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus exposition `text` (0 if absent)."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_alive_and_ready_with_a_migrated_database_and_the_memory_bus(
    store: Store,
) -> None:
    app = create_app(store, MemoryBus())
    assert (await get(app, "/healthz")).json() == {"status": "alive"}
    ready = await get(app, "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": "ok", "bus": "ok"}


async def test_not_ready_while_migrations_are_pending(tmp_path: Path) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path}/empty.db")  # never migrated
    try:
        ready = await get(create_app(store, MemoryBus()), "/readyz")
    finally:
        await store.close()
    assert ready.status_code == 503
    assert ready.json()["database"] == "migrations pending: run `pressbox migrate`"
    assert ready.json()["bus"] == "ok"


async def test_not_ready_while_the_redis_bus_is_unreachable(
    store: Store, unreachable_redis_url: str
) -> None:
    bus = open_bus(unreachable_redis_url)
    try:
        ready = await get(create_app(store, bus), "/readyz")
    finally:
        await bus.aclose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["database"] == "ok" and body["bus"] != "ok" and not body["ready"]


@pytest.fixture
def fresh_metrics() -> Iterator[None]:
    """The metrics of a process just started (the test process's are shared by every test)."""
    metrics.cache_clear()
    yield
    metrics.cache_clear()


async def test_metrics_of_a_fresh_app_show_every_live_series_at_zero(
    store: Store, fresh_metrics: None
) -> None:
    """Before the first viewer: `rate()` and alerts need the series to exist."""
    await add_game(store, "g1", T0)
    await Webhooks(store).add("http://127.0.0.1:9/h", None, None, "whsec_0123456789abcdef", T0)
    text = (await get(create_app(store, MemoryBus()), "/metrics")).text
    values = {
        (sample.name, sample.labels.get("status", sample.labels.get("type"))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert values[("pressbox_ws_connections", None)] == 0
    assert values[("pressbox_ws_deliveries_total", None)] == 0
    assert values[("pressbox_ws_slow_client_drops_total", None)] == 0
    assert values[("pressbox_events_total", "play_added")] == 0
    assert values[("pressbox_streams", "Scheduled")] == 1
    assert values[("pressbox_streams", "Failed")] == 0
    assert values[("pressbox_webhooks", "active")] == 1  # read from the database
    assert values[("pressbox_webhooks", "failing")] == 0


async def test_metrics_count_streams_by_status_and_upstream_requests_by_kind(
    store: Store,
) -> None:
    for game_id, status in (("g1", None), ("g2", StreamStatus.ACTIVE), ("g3", StreamStatus.ACTIVE)):
        await add_game(store, game_id, T0)
        if status:
            await store.move_stream(game_id, status, T0)
    app = create_app(store, MemoryBus())
    before = (await get(app, "/metrics")).text

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bad"):
            return httpx.Response(503, text="unavailable")
        return httpx.Response(200, content=b'{"ok": true}')

    clock = SystemClock()
    http = HttpClient(
        "http://espn.metrics.test",
        clock,
        RequestBudget(clock, rate=1000, burst=10),
        transport=httpx.MockTransport(answer),
    )
    try:
        await http.get("/v2/good", "plays")
        await http.get("/v2/good", "plays")
        with pytest.raises(UpstreamStatusError):
            await http.get("/v2/bad", "status")
    finally:
        await http.aclose()

    response = await get(app, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    host = {"host": "espn.metrics.test"}
    assert sample(after, "pressbox_streams", status="Active") == 2
    assert sample(after, "pressbox_streams", status="Scheduled") == 1
    assert sample(after, "pressbox_streams", status="Failed") == 0

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("pressbox_upstream_requests_total", document="plays", **host) == 2
    assert grew("pressbox_upstream_requests_total", document="status", **host) == 1
    assert grew("pressbox_upstream_errors_total", document="status", kind="status_503", **host) == 1
    assert grew("pressbox_upstream_response_bytes_total", document="plays", **host) == 24
    duration = "pressbox_upstream_request_duration_seconds_count"
    assert grew(duration, document="plays", **host) == 2
    assert grew("pressbox_upstream_budget_wait_seconds_count", **host) == 3


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Leave the root logger as the test found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_json_log_lines_carry_the_game_and_runner_ids(
    capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    logs.configure_logging("INFO", "json")

    async def streamer_like() -> None:
        logs.game_id.set("401756846")
        logs.runner_id.set("host:1:ab")

        async def worker() -> None:  # a task it starts inherits the ids
            logging.getLogger("pressbox.test").info("plays fetched")

        await asyncio.create_task(worker())

    asyncio.run(streamer_like())
    logging.getLogger("pressbox.test").warning("outside any stream")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["message"], x["level"], x["game_id"], x["runner_id"]) for x in lines] == [
        ("plays fetched", "INFO", "401756846", "host:1:ab"),
        ("outside any stream", "WARNING", None, None),
    ]
    assert all(x["name"] == "pressbox.test" and x["time"] for x in lines)


def test_text_log_lines_name_the_ids_in_brackets(
    capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    logs.configure_logging("INFO", "text")
    token = logs.game_id.set("401772994")
    try:
        logging.getLogger("pressbox.test").info("claimed")
    finally:
        logs.game_id.reset(token)
    assert "INFO pressbox.test [game=401772994]: claimed" in capsys.readouterr().err


async def test_metrics_count_live_connections_resumes_and_refusals(store: Store) -> None:
    await add_game(store, "g1", T0)
    app = create_app(store, MemoryBus())
    before = (await get(app, "/metrics")).text
    async with running(app, "127.0.0.1", 0) as url:
        ws_url = url.replace("http://", "ws://")
        async with connect(f"{ws_url}/ws/live/g1?after=0") as viewer:
            assert json.loads(await viewer.recv())["type"] == "status"  # nothing was missed
            during = (await get(app, "/metrics")).text
        with pytest.raises(ConnectionClosed) as refused:
            async with connect(f"{ws_url}/ws/live/nope") as unknown:
                await unknown.recv()
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4404
        for _ in range(100):  # bounded: the server side of the first connection ends
            after = (await get(app, "/metrics")).text
            if sample(after, "pressbox_ws_connections") == sample(
                before, "pressbox_ws_connections"
            ):
                break
            await asyncio.sleep(0.02)

    def grew(text: str, name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert grew(during, "pressbox_ws_connections") == 1
    assert grew(after, "pressbox_ws_connections") == 0
    assert grew(after, "pressbox_ws_resumes_total", outcome="events") == 1
    assert grew(after, "pressbox_ws_refusals_total", reason="unknown_game") == 1


async def test_metrics_after_a_replayed_game(tmp_path: Path, recordings_dir: Path) -> None:
    """The listed series, with real values, after the NBA game replayed to its end."""
    plan = plan_replay([recordings_dir / "games" / "nba-401772994" / "summary.json"])
    # 500x: at 1000x, under two test processes, a quarter break (~2 min of replay time, 0.13 s
    # real) once passed between two status polls and its worker stop and start went unseen.
    clock = ScaledClock(plan.start, 500)
    # The seed's fixed cadences: every document (the status one too) polled all game long.
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/pressbox.db", fetch_policy="seed"
    )
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        open_runtime(settings, clock, espn_url) as runtime,
    ):
        app = create_app(runtime.store, runtime.bus, clock)
        before = (await get(app, "/metrics")).text
        await prepare_streams(runtime, plan.games)
        assert await stream_games(runtime, plan.games) == {"401772994": StreamStatus.COMPLETED}
        after = (await get(app, "/metrics")).text
    host = {"host": espn_url.removeprefix("http://")}

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert sample(after, "pressbox_streams", status="Completed") == 1
    assert sample(after, "pressbox_streams", status="Active") == 0
    assert grew("pressbox_events_total", type="play_added") == 472  # every play, once
    assert grew("pressbox_events_total", type="probability") == 472
    assert 1 <= grew("pressbox_events_total", type="score") <= 472
    for document in ("status", "plays", "probabilities", "situation"):
        requests = grew("pressbox_upstream_requests_total", document=document, **host)
        assert 10 <= requests <= 5000, (document, requests)
        got = grew("pressbox_upstream_request_duration_seconds_count", document=document, **host)
        # Every request answered (no outage here), but those cancelled when workers stop.
        assert requests - 3 <= got <= requests
        assert grew("pressbox_upstream_response_bytes_total", document=document, **host) > 0
    plays = grew("pressbox_upstream_response_bytes_total", document="plays", **host)
    assert plays > 1_000_000  # whole plays documents, re-read all game long
    assert grew("pressbox_document_processing_duration_seconds_count", document="plays") > 10
    # Workers start when play starts and stop at every break: four quarters at least.
    starts = grew("pressbox_worker_starts_total", document="plays")
    assert 4 <= starts <= 20 and grew("pressbox_worker_stops_total", document="plays") == starts
    assert grew("pressbox_upstream_budget_wait_seconds_count", **host) > 100


async def test_not_ready_while_the_database_is_unreachable() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = Store.connect(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/pressbox")
    try:
        ready = await get(create_app(store, MemoryBus()), "/readyz")
    finally:
        await store.close()
    assert ready.status_code == 503
    body = ready.json()
    assert body["database"].startswith("error: ") and body["bus"] == "ok" and not body["ready"]
