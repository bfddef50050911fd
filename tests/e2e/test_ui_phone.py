"""Phone width and keyboard in Chromium: at 375x812 the list, a game and the streams page fit
without horizontal scrolling (screenshots saved under the test's tmp_path), and Tab reaches the
navigation links and every control, each with a visible focus outline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import UI_MS, StartServer
from playwright.sync_api import Browser, Page, expect

PHONE = {"width": 375, "height": 812}
GAME = "401756846"

#: Describes the focused element: its test id, id or text, and whether its outline shows.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    key: el.getAttribute('data-testid') || el.id || el.getAttribute('data-action')
      || (el.textContent || '').trim().slice(0, 40),
    tag: el.tagName.toLowerCase(),
    label: el.getAttribute('aria-label'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
  };
}"""


def _fits(page: Page, name: str, shots: Path) -> int:
    page.screenshot(path=str(shots / f"{name}-375.png"), full_page=True)
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    assert width <= PHONE["width"], f"{name}: scrollWidth {width} > {PHONE['width']}"
    return width


def _tab_through(page: Page, presses: int) -> list[dict[str, Any]]:
    """Tabs from the top of the page; returns what took the focus, in order."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    stops: list[dict[str, Any]] = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is not None:
            stops.append(focused)
    return stops


def _reached(stops: list[dict[str, Any]], key: str) -> dict[str, Any]:
    found = [s for s in stops if s["key"] == key]
    assert found, f"Tab never reached {key!r}; it reached {[s['key'] for s in stops]}"
    return found[0]


@pytest.mark.browser
def test_phone_width_and_keyboard(
    start_server: StartServer, chromium: Browser, ncaaf_postman: Path, tmp_path: Path
) -> None:
    server = start_server([ncaaf_postman])
    page = chromium.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    widths: dict[str, int] = {}

    # The list: fits, and a game row is reached with Tab and opened with Enter.
    page.goto(f"{server.base_url}/#/live")
    expect(page.get_by_test_id("game-row").first).to_be_visible(timeout=UI_MS)
    widths["list"] = _fits(page, "list", tmp_path)
    stops = _tab_through(page, 6)
    for key in ("nav-games", "nav-streams", "game-row"):
        assert _reached(stops, key)["outline"], f"no visible focus on {key}"
    page.get_by_test_id("game-row").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("game-page")).to_be_visible(timeout=UI_MS)

    # The game page with plays and the chart: fits; Tab reaches the delay controls.
    expect(page.get_by_test_id("play").nth(10)).to_be_attached(timeout=60_000)
    expect(page.get_by_test_id("wp-chart")).not_to_have_attribute("data-points", "0", timeout=UI_MS)
    widths["game"] = _fits(page, "game", tmp_path)
    stops = _tab_through(page, 8)
    for key in ("nav-games", "nav-streams", "← All games", "delay-input", "delay-apply"):
        assert _reached(stops, key)["outline"], f"no visible focus on {key}"
    expect(page.get_by_label("Viewer delay (seconds)")).to_be_visible()

    # The streams page: fits; Tab reaches the token field and the buttons, which are labelled.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Streams").click()
    expect(page.get_by_test_id("stream-row").first).to_be_visible(timeout=UI_MS)
    widths["streams"] = _fits(page, "streams", tmp_path)
    stops = _tab_through(page, 12)
    for key in ("nav-games", "nav-streams", "admin-token", "forget-token", "cancel", "restart"):
        assert _reached(stops, key)["outline"], f"no visible focus on {key}"
    assert (_reached(stops, "cancel")["label"] or "").startswith("Cancel the stream of")
    expect(page.get_by_label("Admin token")).to_have_attribute("type", "password")

    print(f"\nscrollWidth at 375 px: {widths}; screenshots in {tmp_path}")
    assert sorted(p.name for p in tmp_path.glob("*-375.png")) == [
        "game-375.png",
        "list-375.png",
        "streams-375.png",
    ]
    assert page_errors == [], f"errors in the page: {page_errors}"
    assert server.process.poll() is None
