"""The web UI in a real browser against the real server replaying the NCAAF recording at 300x.

Needs the built UI (`cd frontend && npm run build`) and Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
STATIC_INDEX = REPO / "src" / "pressbox" / "web" / "static" / "index.html"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SPEED = 300

# Every wait is bounded. The whole replay takes under ~60 s at 300x.
SERVER_READY_S = 30.0
REPLAY_FINAL_S = 150.0
STREAM_END_S = 60.0
UI_MS = 15_000


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.base_url}{path}", timeout=5.0)
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pressbox_executable() -> str:
    beside_python = Path(sys.executable).with_name("pressbox")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("pressbox")
    if found is None:
        pytest.fail("the `pressbox` command is not installed (pip install -e .)")
    return found


def _server_command(recording: Path, port: int) -> list[str]:
    return [
        _pressbox_executable(),
        "serve",
        "--replay",
        str(recording),
        "--speed",
        str(SPEED),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


@pytest.fixture
def server(ncaaf_postman: Path, tmp_path: Path) -> Iterator[Server]:
    """`pressbox serve --replay` on a free loopback port with its own SQLite database."""
    if not STATIC_INDEX.exists():
        pytest.fail(f"the UI is not built ({STATIC_INDEX} missing): cd frontend && npm run build")
    port = _free_port()
    env = {
        **os.environ,
        "PRESSBOX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pressbox.db'}",
        "PRESSBOX_LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _server_command(ncaaf_postman, port),
            cwd=tmp_path,  # no stray .env or database file from the checkout
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    srv = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_ready(srv)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_ready(srv: Server) -> None:
    deadline = time.monotonic() + SERVER_READY_S
    last_error = ""
    while time.monotonic() < deadline:
        if srv.process.poll() is not None:
            pytest.fail(f"server exited with {srv.process.returncode}:\n{srv.log_tail()}")
        try:
            response = httpx.get(f"{srv.base_url}/api/live/games", timeout=2.0)
            if response.status_code == 200 and response.json()["games"]:
                return
            last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last_error = repr(exc)
        time.sleep(0.2)
    pytest.fail(f"server not ready after {SERVER_READY_S}s ({last_error}):\n{srv.log_tail()}")


def _chart_points(page: Page) -> int:
    value = page.get_by_test_id("wp-chart").get_attribute("data-points")
    return int(value or 0)


def _wait_for_stream_end(srv: Server, game_id: str) -> dict[str, Any]:
    """The game's snapshot once its stream has ended."""
    deadline = time.monotonic() + STREAM_END_S
    snapshot: dict[str, Any] = {}
    while time.monotonic() < deadline:
        snapshot = srv.get(f"/api/games/{game_id}")
        stream = snapshot["game"].get("stream") or {}
        if stream.get("ended_at") is not None:
            return snapshot
        time.sleep(0.5)
    pytest.fail(f"stream of {game_id} did not end within {STREAM_END_S}s: {snapshot.get('game')}")


@pytest.mark.browser
def test_live_game_page_follows_the_replay_to_the_final_score(server: Server) -> None:
    games = server.get("/api/live/games")["games"]
    game_id = games[0]["id"]
    page_errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))

            # The list, then a click on the game's row.
            page.goto(f"{server.base_url}/#/live")
            row = page.locator(f'[data-testid="game-row"][data-game-id="{game_id}"]')
            expect(page.get_by_test_id("games-list")).to_be_visible(timeout=UI_MS)
            expect(row).to_be_visible(timeout=UI_MS)
            row.click()
            expect(page).to_have_url(re.compile(rf"#/live/{game_id}$"), timeout=UI_MS)
            expect(page.get_by_test_id("game-page")).to_be_visible(timeout=UI_MS)
            expect(page.get_by_test_id("connection")).to_have_attribute(
                "data-state", "connected", timeout=UI_MS
            )

            # The chart grows while the replay runs, until the game is final.
            samples: list[int] = []
            status = page.get_by_test_id("status-detail")
            deadline = time.monotonic() + REPLAY_FINAL_S
            while True:
                samples.append(_chart_points(page))
                if "Final" in status.inner_text():
                    break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"no Final within {REPLAY_FINAL_S}s; status {status.inner_text()!r}, "
                        f"chart points {samples[-10:]}\n{server.log_tail()}"
                    )
                page.wait_for_timeout(200)
            samples.append(_chart_points(page))
            assert samples == sorted(samples), f"chart points went down: {samples}"
            assert len(set(samples)) >= 3, f"chart did not grow during the replay: {samples}"
            assert samples[-1] > samples[0]

            # After the stream ended, the page shows what the server's snapshot says.
            snapshot = _wait_for_stream_end(server, game_id)
            final = snapshot["game"]
            expect(status).to_contain_text("Final", timeout=UI_MS)
            expect(page.get_by_test_id("score-home")).to_have_text(
                str(final["home"]["score"]), timeout=UI_MS
            )
            expect(page.get_by_test_id("score-away")).to_have_text(
                str(final["away"]["score"]), timeout=UI_MS
            )
            expect(page.get_by_test_id("wp-chart")).to_have_attribute(
                "data-points", str(len(snapshot["probabilities"])), timeout=UI_MS
            )
            expect(page.get_by_test_id("play")).to_have_count(len(snapshot["plays"]), timeout=UI_MS)
            scoring = sum(1 for play in snapshot["plays"] if play["scoring"])
            expect(page.locator('[data-testid="play"][data-scoring="true"]')).to_have_count(scoring)
            newest = snapshot["plays"][-1]
            expect(page.get_by_test_id("play").first).to_have_attribute(
                "data-play-id", newest["id"]
            )
        finally:
            browser.close()

    assert page_errors == [], f"errors in the page: {page_errors}"
