"""Viewer delay in Chromium against a replaying server: with a delay of a few seconds a new play
shows that much later than the server has it, the held count is shown, the setting survives a
reload (the snapshot is held too), and setting it back to 0 releases everything at once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from browser_support import NFL_GAME, UI_MS, Server, StartServer, wait_for
from playwright.sync_api import Browser, Page, expect

DELAY_S = 4
#: Slow enough that plays keep coming for the whole test (kickoff is 3 s in, then a play about
#: every 0.4 s).
SPEED = 100
GAME = "401547417"  # an NFL game file: its plays come from the kickoff on, one by one


def _new_play(server: Server, after: int, seconds: float) -> tuple[str, float, int]:
    """Polls the event log every 50 ms until a play is added after seq `after`; returns its id,
    when it was first seen (monotonic) and the log's last seq."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = server.get(f"/api/games/{GAME}/events?after={after}&limit=5000")
        seen = time.monotonic()
        plays = [e for e in body["events"] if e["type"] == "play_added"]
        if plays:
            return str(plays[-1]["data"]["id"]), seen, int(body["last_seq"])
        after = int(body["last_seq"])
        time.sleep(0.05)
    pytest.fail(f"no new play within {seconds} s\n{server.log_tail()}")


def _delay_status(page: Page) -> dict[str, Any]:
    status = page.get_by_test_id("delay-status")
    return {
        "delay": int(status.get_attribute("data-delay") or -1),
        "held": int(status.get_attribute("data-held") or 0),
        "text": status.inner_text(),
    }


@pytest.mark.browser
def test_viewer_delay_holds_plays_back_and_persists(
    start_server: StartServer, chromium: Browser, recordings_dir: Path
) -> None:
    server = start_server([recordings_dir / NFL_GAME], SPEED)
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.goto(f"{server.base_url}/#/live/{GAME}")
    expect(page.get_by_test_id("connection")).to_have_attribute(
        "data-state", "connected", timeout=UI_MS
    )
    expect(page.get_by_test_id("delay-status")).to_have_attribute("data-delay", "0")
    expect(page.get_by_test_id("play").first).to_be_visible(timeout=60_000)

    # Set a delay of a few seconds.
    page.get_by_label("Viewer delay (seconds)").fill(str(DELAY_S))
    page.get_by_role("button", name="Set delay").click()
    expect(page.get_by_test_id("delay-status")).to_contain_text(f"Delay {DELAY_S} s active")

    # A play the server has just logged shows DELAY_S later, not before; meanwhile it is held.
    last_seq = int(server.get(f"/api/games/{GAME}/events?after=0&limit=1")["last_seq"])
    play_id, seen, _ = _new_play(server, last_seq, 60.0)
    shown = page.locator(f'[data-testid="play"][data-play-id="{play_id}"]')
    page.wait_for_timeout(1000)
    assert shown.count() == 0, "the play showed before its delay had passed"
    assert _delay_status(page)["held"] > 0, _delay_status(page)
    shown.wait_for(state="attached", timeout=(DELAY_S + 10) * 1000)
    lag = time.monotonic() - seen
    print(f"\nplay {play_id}: shown {lag:.2f} s after the server logged it (delay {DELAY_S} s)")
    assert DELAY_S - 0.75 <= lag <= DELAY_S + 3.0, lag

    # The setting persists (localStorage) and applies to the snapshot after a reload too.
    page.reload()
    reloaded = time.monotonic()
    expect(page.get_by_label("Viewer delay (seconds)")).to_have_value(str(DELAY_S))
    expect(page.get_by_test_id("delay-status")).to_have_attribute("data-delay", str(DELAY_S))
    assert page.get_by_test_id("play").count() == 0, "the snapshot was not held back"
    expect(page.get_by_test_id("play").first).to_be_attached(timeout=(DELAY_S + 10) * 1000)
    assert time.monotonic() - reloaded >= DELAY_S - 0.75

    # Back to no delay: what is held shows at once and the page matches the server again.
    wait_for(lambda: _delay_status(page)["held"] > 0, "events are held", 30.0)
    page.get_by_label("Viewer delay (seconds)").fill("0")
    page.get_by_label("Viewer delay (seconds)").press("Enter")
    expect(page.get_by_test_id("delay-status")).to_have_attribute("data-held", "0", timeout=2_000)
    expect(page.get_by_test_id("delay-status")).to_contain_text("No delay")
    newest = server.get(f"/api/games/{GAME}")["plays"][-1]["id"]
    expect(page.locator(f'[data-testid="play"][data-play-id="{newest}"]')).to_be_attached(
        timeout=2_000
    )

    # An out-of-range value is refused and the delay stays as it was.
    page.get_by_label("Viewer delay (seconds)").fill("601")
    page.get_by_role("button", name="Set delay").click()
    expect(page.get_by_role("alert")).to_contain_text("whole seconds from 0 to 600")
    expect(page.get_by_test_id("delay-status")).to_have_attribute("data-delay", "0")
    assert page.evaluate("localStorage.getItem('pressbox.viewerDelaySeconds')") == "0"
    assert page_errors == [], f"errors in the page: {page_errors}"
