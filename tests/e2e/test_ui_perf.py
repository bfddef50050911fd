"""Render latency, frame discipline and memory of the game page in Chromium during a fast replay
of two games (NCAAF recording and an NFL game file, both at 300x).

- Latency: for every applied `events` message, arrival -> the frame that shows it (the page's
  `window.__pressboxPerf`, also User Timing measures); p95 must be at most 100 ms. The server's
  `sent` stamp, when messages carry it, gives sent -> render as well (printed).
- Frames: every render runs in an animation frame of its own (no two in the same frame), and there
  are no more renders than frames.
- Memory: JS heap after a forced GC (CDP `Runtime.getHeapUsage`) after the whole game, then after
  each of several rounds of navigation between both games and the list: below a limit and not
  growing from round to round by more than a margin.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from browser_support import NFL_GAME, UI_MS, Server, StartServer, percentile, wait_for
from playwright.sync_api import Browser, CDPSession, Page, expect

NCAAF = "401756846"
NFL = "401547417"
SPEED = 300
P95_LIMIT_MS = 100.0
#: Measured: ~2.5 MB after the NCAAF game (88 plays) and ~2.8 MB after 8 navigation rounds.
HEAP_LIMIT_MB = 16.0
#: Retained growth allowed from the second to the last navigation round (the first round warms
#: up: code compiled for the second game's page, caches); measured: ~0.1 MB.
HEAP_GROWTH_MB = 1.0
ROUNDS = 8

COUNT_FRAMES = """
window.__frames = 0;
const countFrame = () => { window.__frames += 1; requestAnimationFrame(countFrame); };
requestAnimationFrame(countFrame);
"""


def _heap_mb(cdp: CDPSession) -> float:
    """Used JS heap after a full garbage collection, in MB."""
    cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def _stream_ended(server: Server, game_id: str) -> dict[str, Any] | None:
    snapshot: dict[str, Any] = server.get(f"/api/games/{game_id}")
    stream = snapshot["game"].get("stream") or {}
    return snapshot if stream.get("ended_at") is not None else None


def _open_game(page: Page, game_id: str, plays: int) -> None:
    """Navigates (hash change, no reload) to a game and waits until all its plays show."""
    page.evaluate(f"location.hash = '#/live/{game_id}'")
    expect(page.get_by_test_id("game-page")).to_have_attribute("data-game-id", game_id)
    expect(page.get_by_test_id("play")).to_have_count(plays, timeout=UI_MS)


def _summary(values: list[float]) -> str:
    return (
        f"n={len(values)} p50={percentile(values, 50):.1f} ms "
        f"p95={percentile(values, 95):.1f} ms max={max(values):.1f} ms"
    )


@pytest.mark.browser
def test_render_latency_frames_and_heap_during_a_fast_replay(
    start_server: StartServer, chromium: Browser, ncaaf_postman: Path, recordings_dir: Path
) -> None:
    server = start_server([ncaaf_postman, recordings_dir / NFL_GAME], SPEED)
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.add_init_script(COUNT_FRAMES)
    cdp = page.context.new_cdp_session(page)

    page.goto(f"{server.base_url}/#/live/{NCAAF}")
    expect(page.get_by_test_id("connection")).to_have_attribute(
        "data-state", "connected", timeout=UI_MS
    )
    final = wait_for(lambda: _stream_ended(server, NCAAF), "the NCAAF stream ended", 150, 0.5)
    expect(page.get_by_test_id("status-detail")).to_contain_text("Final", timeout=UI_MS)
    expect(page.get_by_test_id("play")).to_have_count(len(final["plays"]), timeout=UI_MS)

    # Latency of every applied events message.
    samples: list[dict[str, Any]] = page.evaluate("window.__pressboxPerf")
    measures = page.evaluate(
        "performance.getEntriesByName('pressbox:arrival-to-render', 'measure').length"
    )
    arrival = [float(s["arrival_to_render_ms"]) for s in samples]
    sent = [float(s["sent_to_render_ms"]) for s in samples if s["sent_to_render_ms"] is not None]
    print(f"\n{len(final['plays'])} plays, {final['seq']} events in the log")
    print(f"arrival -> render: {_summary(arrival)}")
    print(
        f"sent -> render:    {_summary(sent)}"
        if sent
        else "sent -> render:    no `sent` stamp on the server's events messages"
    )
    assert len(samples) >= 20, f"too few events messages measured: {len(samples)}"
    assert measures == len(samples)
    assert [s["seq"] for s in samples] == sorted(s["seq"] for s in samples)
    assert samples[-1]["seq"] == final["seq"]
    assert percentile(arrival, 95) <= P95_LIMIT_MS, _summary(arrival)

    # At most one render per animation frame.
    render_frames: list[float] = page.evaluate("window.__pressboxRenderFrames")
    frames = int(page.evaluate("window.__frames"))
    print(
        f"renders: {len(render_frames)} in {frames} animation frames "
        f"({len(render_frames) / frames:.2f} per frame; "
        f"{len(set(render_frames))} distinct frame times)"
    )
    assert len(set(render_frames)) == len(render_frames), "two renders in one animation frame"
    assert len(render_frames) <= frames

    # Heap after the whole game, then across rounds of navigation between the games.
    heap_game = _heap_mb(cdp)
    nfl_plays = len(
        wait_for(lambda: _stream_ended(server, NFL), "the NFL stream ended", 150, 0.5)["plays"]
    )
    rounds: list[float] = []
    started = time.monotonic()
    for _ in range(ROUNDS):
        _open_game(page, NFL, nfl_plays)
        page.evaluate("location.hash = '#/live'")
        expect(page.get_by_test_id("game-row")).to_have_count(2, timeout=UI_MS)
        _open_game(page, NCAAF, len(final["plays"]))
        rounds.append(_heap_mb(cdp))
    memory = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null")
    print(
        f"JS heap after GC: {heap_game:.2f} MB after the game; after each of {ROUNDS} rounds "
        f"(NFL game, list, NCAAF game; {time.monotonic() - started:.1f} s): "
        + ", ".join(f"{h:.2f}" for h in rounds)
        + f" MB; performance.memory.usedJSHeapSize {memory} MB"
    )
    assert max([heap_game, *rounds]) < HEAP_LIMIT_MB
    assert rounds[-1] - rounds[1] <= HEAP_GROWTH_MB, rounds
    assert rounds[-1] - heap_game <= 2 * HEAP_GROWTH_MB, (heap_game, rounds)
    # Each page clears its User Timing entries when it goes: what is left is the current page's
    # (a finished game's page gets no events messages).
    left = page.evaluate(
        "[performance.getEntriesByName('pressbox:events-arrived', 'mark').length,"
        " performance.getEntriesByName('pressbox:arrival-to-render', 'measure').length,"
        " window.__pressboxPerf.length]"
    )
    assert left == [left[2], left[2], left[2]], left
    assert page_errors == [], f"errors in the page: {page_errors}"
