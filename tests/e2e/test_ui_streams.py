"""The operations page `#/streams` in Chromium against a replaying server with an admin token:
a table that follows the server, sorts by any column (mouse and keyboard) and filters by status,
refusals show the server's reason, cancel asks first (a modal dialog) and works with the token as
restart does, and the token never lands in the page source or the URL. Below it, the webhooks
(with the token only): one delivering to a real receiver on loopback, one failing against a closed
port, each with its cursors and delivery log when expanded (only that one's detail is fetched)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import NFL_GAME, UI_MS, Server, StartServer, stop, wait_for
from playwright.sync_api import Browser, Locator, Page, expect

from webhook_receiver import Receiver, receiving

TOKEN = "e2e-admin-token-0123456789"
NCAAF = "401756846"
NFL = "401547417"
#: Slow enough that the NCAAF stream stays Active for minutes while the test operates on it.
SPEED = 60
SECRET = "whsec_ui-streams-0123456789"
#: Nothing listens on the discard port: every delivery there is refused.
CLOSED_URL = "http://127.0.0.1:9/hook"
#: A subscription failing this long (1 s at 60x) shows as failing.
HOOK_ENV = {"PRESSBOX_WEBHOOK_FAILING_AFTER_SECONDS": "60"}
NEED_TOKEN = "Webhook subscriptions need the admin token: enter it above to see them."


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that answers 200."""
    with receiving(SECRET) as hooks:
        yield hooks


def _row(page: Page, game_id: str) -> Locator:
    return page.locator(f'[data-testid="stream-row"][data-game-id="{game_id}"]')


def _refreshes(page: Page) -> int:
    return int(page.get_by_test_id("streams-updated").get_attribute("data-refreshes") or 0)


#: The table's columns, in order (then the actions).
COLUMNS = [
    "Status",
    "Game",
    "League",
    "Owner",
    "Lease age",
    "Last poll",
    "Requests",
    "Degraded",
    "Not published",
    "Failure",
    "Retries",
    "Scheduled",
    "Started",
    "Ended",
]


def _order(page: Page) -> list[str]:
    """The game ids of the table's rows, top to bottom."""
    return list(
        page.get_by_test_id("stream-row").evaluate_all("rows => rows.map(r => r.dataset.gameId)")
    )


def _column(page: Page, field: str) -> list[str]:
    """The text of one column's cells, top to bottom."""
    cells = page.locator(f'[data-testid="stream-row"] [data-field="{field}"]')
    return [text.strip() for text in cells.all_inner_texts()]


def _header(page: Page, label: str) -> Locator:
    return page.locator("thead").get_by_role("columnheader", name=label, exact=True)


def _sort_button(page: Page, label: str) -> Locator:
    return page.locator("thead").get_by_role("button", name=label, exact=True)


def _confirm_cancel(page: Page, name: str) -> None:
    """Answers the cancel dialog with "Cancel stream" after checking it names the game."""
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible(timeout=UI_MS)
    expect(dialog).to_contain_text(name)
    dialog.get_by_role("button", name="Cancel stream").click()
    expect(dialog).to_be_hidden(timeout=UI_MS)


def _wait_refreshes(page: Page, count: int, what: str) -> None:
    """Waits until the page has refreshed `count` more times."""
    target = _refreshes(page) + count
    wait_for(lambda: _refreshes(page) >= target, what, 10.0)


def _expect_feedback(page: Page, kind: str, *texts: str) -> None:
    feedback = page.get_by_test_id("ops-feedback")
    expect(feedback).to_have_attribute("data-kind", kind, timeout=UI_MS)
    for text in texts:
        expect(feedback).to_contain_text(text, timeout=UI_MS)


def _admin(server: Server, method: str, path: str, **body: Any) -> Any:
    """A call to the webhooks API with the admin token."""
    response = httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json=body or None,
        timeout=5.0,
    )
    response.raise_for_status()
    return response.json()


def _add_webhooks(server: Server, receiver: Receiver) -> tuple[int, int]:
    """Subscribes the receiver (every event from the start of the logs) and the closed port (two
    event types of the NCAAF games); returns their ids."""
    good = _admin(server, "POST", "/api/webhooks", url=receiver.url, secret=SECRET, from_start=True)
    bad = _admin(
        server,
        "POST",
        "/api/webhooks",
        url=CLOSED_URL,
        events=["status", "score"],
        league="college-football",
        from_start=True,
    )
    return int(good["webhook"]["id"]), int(bad["webhook"]["id"])


def _hook_row(page: Page, webhook_id: int) -> Locator:
    return page.locator(f'[data-testid="webhook-row"][data-webhook-id="{webhook_id}"]')


def _detail_requests(urls: list[str]) -> list[str]:
    """The `GET /api/webhooks/{id}` calls among `urls`."""
    return [url for url in urls if re.search(r"/api/webhooks/\d+$", url)]


def _expect_webhooks_message(page: Page, text: str) -> None:
    expect(page.get_by_test_id("webhooks-message")).to_have_text(text, timeout=UI_MS)
    expect(page.get_by_test_id("webhooks-table")).to_be_hidden()
    expect(page.get_by_test_id("webhook-detail")).to_be_hidden()


def _check_webhooks(
    page: Page, server: Server, receiver: Receiver, hooks: tuple[int, int], gets: list[str]
) -> None:
    """With the right token: both subscriptions listed, the failing one marked; expanding one
    (keyboard, then mouse) shows its cursors and delivery log, fetched for that one only."""
    good, bad = hooks
    expect(page.get_by_test_id("webhooks-message")).to_be_hidden(timeout=UI_MS)
    expect(page.get_by_test_id("webhook-row")).to_have_count(2)
    expect(page.get_by_test_id("webhooks-count")).to_have_text("2 subscriptions")
    receiver.wait_for(lambda r: len(r.delivered()) > 0, 30, "a first delivery")
    good_row, bad_row = _hook_row(page, good), _hook_row(page, bad)
    expect(good_row.get_by_role("rowheader")).to_have_text(receiver.url)
    expect(good_row.locator('[data-field="events"]')).to_have_text("all")
    expect(good_row.get_by_test_id("webhook-status")).to_have_text("Active")
    expect(good_row.locator('[data-field="delivered"]')).not_to_have_text("0", timeout=UI_MS)
    expect(good_row.locator('[data-field="last-success"]')).to_contain_text("UTC", timeout=UI_MS)
    expect(bad_row.locator('[data-field="events"]')).to_have_text("score, status")
    expect(bad_row.locator('[data-field="league"]')).to_have_text("college-football")
    # Failing after a minute of replay time: a red badge saying since when, the last error.
    expect(bad_row).to_have_attribute("data-status", "failing", timeout=30_000)
    expect(bad_row.get_by_test_id("webhook-status")).to_have_text("⚠ Failing")
    expect(bad_row.locator('[data-field="status"]')).to_contain_text("since ")
    expect(bad_row.locator('[data-field="last-error"]')).to_contain_text("Error")
    listed = {hook["id"]: hook for hook in _admin(server, "GET", "/api/webhooks")["webhooks"]}
    owner = listed[good]["owner"]
    assert owner, listed[good]
    expect(good_row.locator('[data-field="owner"]')).to_have_text(owner)
    # Collapsed: no detail is fetched.
    assert _detail_requests(gets) == [], gets
    detail = page.get_by_test_id("webhook-detail")
    expect(detail).to_be_hidden()

    # The keyboard expands the receiver's subscription: its cursors and its delivery log.
    good_toggle = good_row.get_by_role("button", name=f"Deliveries of webhook {good}")
    good_toggle.focus()
    page.keyboard.press("Enter")
    expect(good_toggle).to_have_attribute("aria-expanded", "true")
    expect(good_toggle).to_have_attribute("aria-controls", "webhook-detail")
    expect(detail).to_be_visible(timeout=UI_MS)
    expect(detail.get_by_role("heading", name=f"Webhook {good}")).to_be_visible()
    deliveries = detail.get_by_test_id("webhook-delivery")
    expect(deliveries.first).to_be_visible(timeout=UI_MS)
    expect(deliveries.first.locator('[data-field="answer"]')).to_have_text("ok")
    expect(deliveries.first.locator('[data-field="seqs"]')).to_have_text(
        re.compile(r"^\d+(–\d+)?$")
    )
    expect(deliveries.first.locator('[data-field="at"]')).to_contain_text("UTC")
    expect(detail.locator('[data-testid="webhook-delivery"][data-ok="false"]')).to_have_count(0)
    expect(detail.get_by_test_id("webhook-cursor").first).to_be_visible(timeout=UI_MS)
    served = _admin(server, "GET", f"/api/webhooks/{good}")
    shown = detail.get_by_test_id("webhook-cursor").evaluate_all(
        "rows => rows.map(r => r.dataset.gameId)"
    )
    assert set(shown) <= set(served["cursors"]) and shown, (shown, served["cursors"])
    # Every game the receiver got a delivery of has a cursor.
    got = {r.body["game_id"] for r in receiver.delivered()}
    assert got <= set(served["cursors"]), (got, served["cursors"])
    # Refreshed in place: the focus and the expansion stay, the detail keeps being fetched.
    fetched = len(_detail_requests(gets))
    _wait_refreshes(page, 2, "two refreshes with a webhook expanded")
    expect(good_toggle).to_be_focused()
    expect(good_toggle).to_have_attribute("aria-expanded", "true")
    assert len(_detail_requests(gets)) >= fetched + 2
    assert {url.rsplit("/", 1)[1] for url in _detail_requests(gets)} == {str(good)}

    # The failing one: expanding it collapses the other; its log shows why each attempt failed.
    bad_toggle = bad_row.get_by_role("button", name=f"Deliveries of webhook {bad}")
    bad_toggle.click()
    expect(good_toggle).to_have_attribute("aria-expanded", "false")
    expect(bad_toggle).to_have_attribute("aria-expanded", "true")
    expect(detail.get_by_role("heading", name=f"Webhook {bad}")).to_be_visible(timeout=UI_MS)
    failed = detail.locator('[data-testid="webhook-delivery"][data-ok="false"]')
    expect(failed.first).to_be_visible(timeout=UI_MS)
    expect(failed.first.locator('[data-field="answer"]')).to_contain_text("Error")
    expect(detail.locator('[data-testid="webhook-delivery"][data-ok="true"]')).to_have_count(0)
    # Nothing got through: no cursor (the other game is not in its league).
    expect(detail.get_by_test_id("webhook-no-cursor")).to_be_visible()
    expect(detail.get_by_test_id("webhook-cursors")).to_be_hidden()
    # Collapsed again: the detail hides and is no longer fetched.
    bad_toggle.click()
    expect(bad_toggle).to_have_attribute("aria-expanded", "false")
    expect(detail).to_be_hidden()
    fetched = len(_detail_requests(gets))
    _wait_refreshes(page, 2, "two refreshes with nothing expanded")
    assert len(_detail_requests(gets)) == fetched


@pytest.mark.browser
def test_streams_page_lists_updates_and_operates_with_the_token(
    start_server: StartServer,
    chromium: Browser,
    recordings_dir: Path,
    ncaaf_postman: Path,
    receiver: Receiver,
) -> None:
    server = start_server(
        [ncaaf_postman, recordings_dir / NFL_GAME],
        SPEED,
        {"PRESSBOX_ADMIN_TOKEN": TOKEN, **HOOK_ENV},
    )
    hooks = _add_webhooks(server, receiver)
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    posts: list[str] = []
    page.on("request", lambda req: posts.append(req.url) if req.method == "POST" else None)
    hook_gets: list[str] = []
    page.on(
        "request",
        lambda req: hook_gets.append(req.url) if "/api/webhooks" in req.url else None,
    )

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
    expect(_row(page, NFL).locator('[data-field="game"] a')).not_to_have_text(
        f"Game {NFL}", timeout=30_000
    )

    # One table, a column header per column, the game as each row's header, linking to its page.
    table = page.get_by_role("table")
    expect(table).to_have_count(1)
    headers = table.locator('thead th[scope="col"]')
    assert [t.strip() for t in headers.all_inner_texts()] == [*COLUMNS, "Actions"]
    expect(ncaaf.get_by_role("rowheader")).to_contain_text("Iowa State Cyclones")
    expect(ncaaf.get_by_role("link", name=re.compile("^Iowa State Cyclones"))).to_have_attribute(
        "href", f"#/live/{NCAAF}"
    )
    expect(ncaaf.locator('[data-field="league"]')).to_have_text("college-football")
    # The webhooks need the token: without one the section says so and asks nothing.
    _expect_webhooks_message(page, NEED_TOKEN)
    assert hook_gets == [], hook_gets
    expect(page.get_by_test_id("streams-count")).to_have_text("2 of 2 streams")
    expect(table.locator("[aria-sort]")).to_have_count(0)
    # As served: earliest scheduled first (the NCAAF replay starts first).
    assert _order(page) == [NCAAF, NFL]
    expect(page.get_by_test_id("streams-caption")).to_contain_text("server’s order")
    # Requests come from `fetches.requests`, once the owner reported them.
    wait_for(lambda: server.stream(NCAAF)["fetches"].get("requests", 0) > 0, "NCAAF requests", 60)
    expect(ncaaf.locator('[data-field="requests"]')).to_have_text(
        re.compile(r"^[\d,]+$"), timeout=UI_MS
    )

    # A click on a header sorts by it, a second click flips it; aria-sort follows.
    names = _column(page, "game")
    _sort_button(page, "Game").click()
    expect(_header(page, "Game")).to_have_attribute("aria-sort", "ascending")
    assert _column(page, "game") == sorted(names, key=str.casefold)
    _sort_button(page, "Game").click()
    expect(_header(page, "Game")).to_have_attribute("aria-sort", "descending")
    assert _column(page, "game") == sorted(names, key=str.casefold, reverse=True)
    expect(table.locator("[aria-sort]")).to_have_count(1)
    expect(page.get_by_test_id("streams-caption")).to_contain_text("sorted by Game, descending")
    # Times sort chronologically (shown as "YYYY-MM-DD HH:MM:SS UTC"; a dash goes last).
    _sort_button(page, "Started").click()
    _sort_button(page, "Started").click()
    expect(_header(page, "Started")).to_have_attribute("aria-sort", "descending")
    expect(_header(page, "Game")).not_to_have_attribute("aria-sort", re.compile("."))
    started = _column(page, "started")
    times = [t for t in started if t != "—"]
    assert times and times == sorted(times, reverse=True), started
    assert started == times + ["—"] * (len(started) - len(times)), started
    # The sort and the focus survive the refreshes (Green Bay before Iowa State: not as served).
    _sort_button(page, "Game").click()
    expect(_header(page, "Game")).to_have_attribute("aria-sort", "ascending")
    assert _order(page) == [NFL, NCAAF]
    focused = _row(page, NCAAF).get_by_role("button", name=re.compile("^Restart the stream of"))
    focused.focus()
    _wait_refreshes(page, 2, "two refreshes while sorted")
    assert _order(page) == [NFL, NCAAF]
    expect(focused).to_be_focused()
    # Numbers sort numerically (a dash, no report yet, goes last).
    _sort_button(page, "Requests").click()
    _sort_button(page, "Requests").click()
    expect(_header(page, "Requests")).to_have_attribute("aria-sort", "descending")
    counts = [int(c.replace(",", "")) for c in _column(page, "requests") if c != "—"]
    assert counts == sorted(counts, reverse=True), counts
    # The keyboard: the headers are one Tab stop, arrow keys move between them, Enter sorts.
    _sort_button(page, "Requests").focus()
    page.keyboard.press("Home")
    expect(_sort_button(page, "Status")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(_sort_button(page, "Game")).to_be_focused()
    expect(_sort_button(page, "Game")).to_have_attribute("tabindex", "0")
    expect(_sort_button(page, "Requests")).to_have_attribute("tabindex", "-1")
    page.keyboard.press("Enter")
    expect(_header(page, "Game")).to_have_attribute("aria-sort", "ascending")
    page.keyboard.press("End")
    expect(_sort_button(page, "Ended")).to_be_focused()
    # Back to the server's order.
    page.get_by_role("button", name="Server order").click()
    expect(table.locator("[aria-sort]")).to_have_count(0)
    expect(page.get_by_role("button", name="Server order")).to_be_hidden()
    assert _order(page) == [NCAAF, NFL]

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

    # The status filter: All, then each status present; it hides the other rows and counts.
    status_filter = page.get_by_label("Status", exact=True)
    expect(status_filter.locator("option")).to_have_text(["All (2)", "Active (1)", "Canceled (1)"])
    status_filter.select_option("Canceled")
    expect(ncaaf).to_be_hidden()
    expect(_row(page, NFL)).to_be_visible()
    expect(page.get_by_test_id("streams-count")).to_have_text("1 of 2 streams")
    status_filter.select_option("Active")
    expect(ncaaf).to_be_visible()
    expect(_row(page, NFL)).to_be_hidden()
    expect(page.get_by_test_id("streams-count")).to_have_text("1 of 2 streams")
    status_filter.select_option("")
    expect(_row(page, NFL)).to_be_visible()
    expect(page.get_by_test_id("streams-count")).to_have_text("2 of 2 streams")

    # Without a token: refused with the server's reason, nothing changes.
    cancel = ncaaf.get_by_role("button", name=re.compile("^Cancel the stream of Iowa State"))
    restart = ncaaf.get_by_role("button", name=re.compile("^Restart the stream of Iowa State"))
    cancel.click()
    _confirm_cancel(page, "Iowa State Cyclones at Kansas State Wildcats")
    _expect_feedback(page, "error", "401", "missing or wrong admin token")
    assert server.stream(NCAAF)["status"] == "Active"

    # A wrong token: the same refusal.
    token_field = page.get_by_label("Admin token")
    page.get_by_role("button", name="Forget token").click()
    _expect_feedback(page, "success", "forgotten")
    _expect_webhooks_message(page, NEED_TOKEN)
    token_field.fill("not-the-admin-token")
    cancel.click()
    _confirm_cancel(page, "Iowa State Cyclones at Kansas State Wildcats")
    _expect_feedback(page, "error", "401", "missing or wrong admin token")
    assert server.stream(NCAAF)["status"] == "Active"
    # The webhooks are refused the same way.
    _expect_webhooks_message(page, "Webhooks refused (401): missing or wrong admin token")
    expect(page.get_by_test_id("webhooks-message")).to_have_attribute("data-kind", "error")

    # The right token shows the webhooks ...
    token_field.fill(TOKEN)
    _check_webhooks(page, server, receiver, hooks, hook_gets)
    # ... and restarting a followed stream is refused by the lifecycle (409) ...
    restart.click()
    _expect_feedback(page, "error", "409", "cannot go from Active")
    # ... cancelling asks first, in a modal dialog naming the game: "Keep it" and Escape send
    # nothing and leave the stream as it is ...
    dialog = page.get_by_role("alertdialog")
    for dismiss in ("Keep it", "Escape"):
        sent = len(posts)
        cancel.click()
        expect(dialog).to_be_visible(timeout=UI_MS)
        expect(dialog).to_contain_text("Cancel the stream of “Iowa State Cyclones")
        assert dialog.evaluate("d => d.open && d.matches(':modal')")
        expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
        if dismiss == "Escape":
            page.keyboard.press("Escape")
        else:
            dialog.get_by_role("button", name="Keep it").click()
        expect(dialog).to_be_hidden(timeout=UI_MS)
        expect(cancel).to_be_focused()
        _wait_refreshes(page, 1, "a refresh after the dialog")
        assert posts[sent:] == [], posts[sent:]
        assert server.stream(NCAAF)["status"] == "Active"
        expect(ncaaf).to_have_attribute("data-status", "Active")
    # ... and "Cancel stream" cancels it: the row changes ...
    cancel.click()
    _confirm_cancel(page, "Iowa State Cyclones at Kansas State Wildcats")
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
    _confirm_cancel(page, "Iowa State Cyclones at Kansas State Wildcats")
    _expect_feedback(page, "error", "could not reach the server")
    expect(page.locator(".streams-page")).to_contain_text(
        "Could not refresh the streams", timeout=UI_MS
    )
    expect(page.get_by_test_id("webhooks-message")).to_have_text(
        "Webhooks failed: could not reach the server (Failed to fetch).", timeout=UI_MS
    )
    assert page_errors == [], f"errors in the page: {page_errors}"
