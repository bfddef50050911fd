"""The operations page `#/streams` in Chromium against a replaying server with an admin token:
the list follows the server, refusals show the server's reason, cancel and restart work with the
token, and the token never lands in the page source or the URL."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from browser_support import NFL_GAME, UI_MS, StartServer, stop, wait_for
from playwright.sync_api import Browser, Locator, Page, expect

TOKEN = "e2e-admin-token-0123456789"
NCAAF = "401756846"
NFL = "401547417"
#: Slow enough that the NCAAF stream stays Active for minutes while the test operates on it.
SPEED = 60


def _row(page: Page, game_id: str) -> Locator:
    return page.locator(f'[data-testid="stream-row"][data-game-id="{game_id}"]')


def _refreshes(page: Page) -> int:
    return int(page.get_by_test_id("streams-updated").get_attribute("data-refreshes") or 0)


def _expect_feedback(page: Page, kind: str, *texts: str) -> None:
    feedback = page.get_by_test_id("ops-feedback")
    expect(feedback).to_have_attribute("data-kind", kind, timeout=UI_MS)
    for text in texts:
        expect(feedback).to_contain_text(text, timeout=UI_MS)


@pytest.mark.browser
def test_streams_page_lists_updates_and_operates_with_the_token(
    start_server: StartServer, chromium: Browser, recordings_dir: Path, ncaaf_postman: Path
) -> None:
    server = start_server(
        [ncaaf_postman, recordings_dir / NFL_GAME], SPEED, {"PRESSBOX_ADMIN_TOKEN": TOKEN}
    )
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))

    # Reached from the header link; lists both streams.
    page.goto(f"{server.base_url}/#/live")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Streams").click()
    expect(page).to_have_url(re.compile(r"#/streams$"))
    expect(page.get_by_test_id("nav-streams")).to_have_attribute("aria-current", "page")
    ncaaf = _row(page, NCAAF)
    expect(ncaaf).to_be_visible(timeout=UI_MS)
    expect(_row(page, NFL)).to_be_visible(timeout=UI_MS)
    # The name comes with the first ESPN documents of the replay.
    expect(ncaaf).to_contain_text("Iowa State Cyclones at Kansas State Wildcats", timeout=30_000)

    # It polls: refreshes go on, and a change made behind its back shows without a reload.
    first = _refreshes(page)
    wait_for(lambda: _refreshes(page) >= first + 2, "two more refreshes", 10.0)
    wait_for(lambda: server.stream(NCAAF)["status"] == "Active", "the NCAAF stream is Active", 60)
    expect(ncaaf).to_have_attribute("data-status", "Active", timeout=UI_MS)
    expect(ncaaf.locator('[data-field="scheduled"]')).to_contain_text("UTC")
    outside = httpx.post(
        f"{server.base_url}/api/streams/{NFL}/cancel",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5.0,
    )
    assert outside.status_code == 200, outside.text
    expect(_row(page, NFL)).to_have_attribute("data-status", "Canceled", timeout=5_000)

    # Without a token: refused with the server's reason, nothing changes.
    cancel = ncaaf.get_by_role("button", name=re.compile("^Cancel the stream of Iowa State"))
    restart = ncaaf.get_by_role("button", name=re.compile("^Restart the stream of Iowa State"))
    cancel.click()
    _expect_feedback(page, "error", "401", "missing or wrong admin token")
    assert server.stream(NCAAF)["status"] == "Active"

    # A wrong token: the same refusal.
    token_field = page.get_by_label("Admin token")
    page.get_by_role("button", name="Forget token").click()
    _expect_feedback(page, "success", "forgotten")
    token_field.fill("not-the-admin-token")
    cancel.click()
    _expect_feedback(page, "error", "401", "missing or wrong admin token")
    assert server.stream(NCAAF)["status"] == "Active"

    # The right token: restarting a followed stream is refused by the lifecycle (409) ...
    token_field.fill(TOKEN)
    restart.click()
    _expect_feedback(page, "error", "409", "cannot go from Active")
    # ... cancelling it works, and the row changes ...
    cancel.click()
    _expect_feedback(page, "success", "now Canceled")
    expect(ncaaf).to_have_attribute("data-status", "Canceled", timeout=UI_MS)
    assert server.stream(NCAAF)["status"] == "Canceled"
    # ... and so does restarting it.
    restart.click()
    _expect_feedback(page, "success", "now Scheduled")
    restarted = server.stream(NCAAF)
    assert restarted["status"] != "Canceled", restarted
    assert restarted["failure_reason"] is None and restarted["ended_at"] is None
    expect(ncaaf).not_to_have_attribute("data-status", "Canceled", timeout=UI_MS)

    # The token is in no attribute or text of the page and not in the URL.
    assert TOKEN not in page.content()
    assert TOKEN not in page.url
    # Not kept past a reload unless asked to ("Keep it for this browser tab").
    page.reload()
    expect(page.get_by_label("Admin token")).to_have_value("", timeout=UI_MS)
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_label("Keep it for this browser tab").check()
    page.reload()
    expect(page.get_by_label("Admin token")).to_have_value(TOKEN, timeout=UI_MS)
    assert TOKEN not in page.content()

    # The server goes away: the page says it cannot reach it.
    expect(ncaaf).to_be_visible(timeout=UI_MS)
    stop(server)
    cancel.click()
    _expect_feedback(page, "error", "could not reach the server")
    expect(page.locator(".streams-page")).to_contain_text(
        "Could not refresh the streams", timeout=UI_MS
    )
    assert page_errors == [], f"errors in the page: {page_errors}"
