"""The web UI in a real browser against the real server replaying the NCAAF recording at 300x.

Needs the built UI (`cd frontend && npm run build`) and Debian's Chromium at /usr/bin/chromium;
the server and browser helpers are in browser_support.py and conftest.py.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, UI_MS, Server
from playwright.sync_api import Page, expect, sync_playwright

# Every wait is bounded. The whole replay takes under ~60 s at 300x (the `server` fixture).
REPLAY_FINAL_S = 150.0
STREAM_END_S = 60.0


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


def _box(page: Page, test_id: str) -> dict[str, float]:
    box = page.get_by_test_id(test_id).bounding_box()
    assert box is not None, f"{test_id} is not shown"
    return box


def _check_game_layout(page: Page, final: dict[str, Any]) -> None:
    """Score, linescore, chart, plays in that order; the linescore adds up to the final score;
    the chart marks scoring plays; the viewer delay is a compact line of the header."""
    for side in ("home", "away"):
        score = str(final[side]["score"])
        expect(page.get_by_test_id(f"linescore-total-{side}")).to_have_text(score, timeout=UI_MS)
        cells = page.locator(f'[data-testid="linescore"] tr[data-side="{side}"] td:not(.total)')
        points = [int(text) for text in cells.all_inner_texts() if text.strip()]
        assert len(points) >= 4 and sum(points) == int(score), (side, points, score)
    markers = int(page.get_by_test_id("scoring-markers").get_attribute("data-count") or 0)
    assert markers > 0, "no scoring play marked on the chart"

    expect(page.get_by_test_id("game-header").get_by_test_id("delay-form")).to_be_visible()
    delay, chart = _box(page, "delay-form"), _box(page, "wp-chart")
    assert delay["height"] < 60, f"the delay setting is not a compact line: {delay}"
    header, linescore = _box(page, "game-header"), _box(page, "linescore")
    plays = _box(page, "plays-list")
    assert header["y"] + header["height"] <= linescore["y"] < chart["y"] < plays["y"]


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
            _check_game_layout(page, final)
        finally:
            browser.close()

    assert page_errors == [], f"errors in the page: {page_errors}"
