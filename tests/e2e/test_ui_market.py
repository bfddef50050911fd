"""The market line in a real browser: replayed NBA games (real ESPN summaries) with and without a
Kalshi market.

With a market, the server replays game 401772994 against a fake Kalshi running in this test
process (`--kalshi-url`): its two team markets for KXNBAGAME-25MAY31NYKIND and their moving prices
are TEST DATA built here, not Kalshi's, so the test controls them. Without a market: game
401468642 (Dallas at Houston, 2022), for which the replay's own fake Kalshi has nothing (the
recordings hold no Kalshi data of it): the page must say so and draw ESPN's line only.

Needs the built UI (`cd frontend && npm run build`) and Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import UI_MS, Server, running_server, wait_for
from playwright.sync_api import Browser, Page, expect

from pressbox.clock import SystemClock
from pressbox.replay.kalshi import REST_PREFIX, FakeKalshi, KalshiData
from pressbox.web.server import running

GAME = "401772994"  # New York Knicks at Indiana Pacers, 2025-05-31 (US Eastern)
EVENT = "KXNBAGAME-25MAY31NYKIND"
IND, NYK = f"{EVENT}-IND", f"{EVENT}-NYK"
NO_MARKET_GAME = "401468642"  # Dallas Mavericks at Houston Rockets, 2022-12-23 (US Eastern)
NO_MARKET_EVENT = "KXNBAGAME-22DEC23DALHOU"
SPEED = 300
#: Replay seconds between two polls of the markets: 0.2 s of real time at 300x.
MARKETS_ON = {"PRESSBOX_MARKETS": "on", "PRESSBOX_KALSHI_POLL_SECONDS": "60"}
STREAM_END_S = 120.0


def built_markets() -> KalshiData:
    """The game's two team markets: test data, not Kalshi's."""

    def market(ticker: str, team: str) -> dict[str, Any]:
        return {"ticker": ticker, "event_ticker": EVENT, "status": "active", "yes_sub_title": team}

    data = KalshiData(markets=[market(IND, "Indiana"), market(NYK, "New York")])
    data.events[EVENT] = {"event_ticker": EVENT, "series_ticker": "KXNBAGAME", "title": "test"}
    return data


class ScriptedKalshi:
    """A fake Kalshi on loopback in a thread of its own (its own event loop), serving
    `built_markets` whose prices move on a script: every `step` real seconds the home market's
    yes bid moves by a cent (30..69 cents, the away market mirrored)."""

    def __init__(self, step: float = 0.3) -> None:
        self.data = built_markets()
        self.step = step
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fake-kalshi", daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> ScriptedKalshi:
        self._thread.start()
        if not self._ready.wait(15) or self._error is not None:
            raise RuntimeError(f"the fake Kalshi did not start: {self._error!r}")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._move(0)
        app = FakeKalshi(self.data, SystemClock()).app()
        async with running(app, "127.0.0.1", 0) as base:
            self.url = base + REST_PREFIX
            self._ready.set()
            for step in itertools.count(1):
                try:
                    await asyncio.wait_for(self._stop.wait(), self.step)
                    return
                except TimeoutError:
                    self._move(step)

    def _move(self, step: int) -> None:
        bid = 30 + step % 40
        self.data.update_market(IND, yes_bid=bid, yes_ask=bid + 2, volume=10 * step)
        self.data.update_market(NYK, yes_bid=98 - bid, yes_ask=100 - bid, volume=10 * step)


@pytest.fixture
def nba_game(recordings_dir: Path) -> Path:
    return recordings_dir / "games" / f"nba-{GAME}" / "summary.json"


@pytest.fixture
def game_without_market(recordings_dir: Path) -> Path:
    return recordings_dir / "games" / f"nba-{NO_MARKET_GAME}" / "summary.json"


@pytest.fixture
def kalshi() -> Iterator[ScriptedKalshi]:
    with ScriptedKalshi() as fake:
        yield fake


def all_events(srv: Server, game: str = GAME) -> list[dict[str, Any]]:
    """The game's whole event log, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        page = srv.get(f"/api/games/{game}/events?after={len(found)}&limit=5000")
        found += page["events"]
        if not page["events"] or len(found) >= page["last_seq"]:
            return found


def stream_ended(srv: Server) -> dict[str, Any] | None:
    snapshot: dict[str, Any] = srv.get(f"/api/games/{GAME}")
    stream = snapshot["game"].get("stream") or {}
    return snapshot if stream.get("ended_at") is not None else None


def int_attr(page: Page, name: str) -> int:
    return int(page.get_by_test_id("wp-chart").get_attribute(name) or 0)


def open_game_from_list(page: Page, srv: Server, game: str = GAME) -> None:
    page.goto(f"{srv.base_url}/#/live")
    row = page.locator(f'[data-testid="game-row"][data-game-id="{game}"]')
    expect(row).to_be_visible(timeout=UI_MS)
    row.click()
    expect(page).to_have_url(re.compile(rf"#/live/{game}$"), timeout=UI_MS)
    expect(page.get_by_test_id("connection")).to_have_attribute(
        "data-state", "connected", timeout=UI_MS
    )


@pytest.mark.browser
def test_game_page_draws_espn_and_market_lines_from_one_log(
    nba_game: Path, kalshi: ScriptedKalshi, chromium: Browser, tmp_path: Path
) -> None:
    page_errors: list[str] = []
    with running_server(
        [nba_game], tmp_path, SPEED, env=MARKETS_ON, args=["--kalshi-url", kalshi.url]
    ) as srv:
        page = chromium.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))

        # The list shows the market-implied home price beside the score (it refreshes every 5 s).
        page.goto(f"{srv.base_url}/#/live")
        cell = page.locator(f'[data-game-id="{GAME}"] [data-testid="game-market"]')
        expect(cell).to_have_attribute("data-market", "live", timeout=3 * UI_MS)
        expect(cell).to_contain_text(re.compile(r"IND \d+%"), timeout=UI_MS)

        open_game_from_list(page, srv)
        chart = page.get_by_test_id("wp-chart")
        wait_for(lambda: int_attr(page, "data-points") > 0, "ESPN points are drawn", 30)
        wait_for(lambda: int_attr(page, "data-market-points") > 0, "market points are drawn", 30)
        expect(chart).to_have_attribute("data-market", "live")
        legend = page.locator(".wp-plot .u-legend")
        expect(legend).to_contain_text("ESPN")
        expect(legend).to_contain_text("Kalshi market")
        expect(page.get_by_test_id("market-note")).to_be_hidden()
        health = page.get_by_test_id("source-health")
        expect(health).to_have_attribute("data-market", "live", timeout=UI_MS)
        expect(health).to_contain_text("Market live")
        expect(health).to_contain_text("ESPN")

        # Both lines grow while the game is played, then hold what the log holds.
        early = (int_attr(page, "data-points"), int_attr(page, "data-market-points"))
        snapshot = wait_for(lambda: stream_ended(srv), "the stream ends", STREAM_END_S, 0.5)
        expect(chart).to_have_attribute(
            "data-points", str(len(snapshot["probabilities"])), timeout=UI_MS
        )
        late = (int_attr(page, "data-points"), int_attr(page, "data-market-points"))
        assert late[0] > early[0] and late[1] > early[1], (early, late)
        last_price = snapshot["market"][-1]["implied_home"]
        caption = chart.locator(".wp-caption")
        expect(caption).to_contain_text(f"Kalshi market {last_price * 100:.1f}%", timeout=UI_MS)

        # One log, one seq order: ESPN probability points and market points interleaved.
        events = all_events(srv)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        kinds = [e["type"] for e in events if e["type"] in ("probability", "market")]
        probability_seqs = [e["seq"] for e in events if e["type"] == "probability"]
        market_seqs = [e["seq"] for e in events if e["type"] == "market"]
        assert len(probability_seqs) > 50 and len(market_seqs) > 50
        assert market_seqs[0] < probability_seqs[-1] and probability_seqs[0] < market_seqs[-1]
        runs = [kind for kind, _ in itertools.groupby(kinds)]
        assert len(runs) > 10, f"not interleaved: {len(runs)} runs"
        assert snapshot["market_status"]["state"] == "live"
        assert all(e["data"]["ticker"] in (IND, NYK) for e in events if e["type"] == "market")
        page.close()
    assert page_errors == [], f"errors in the page: {page_errors}"


@pytest.mark.browser
def test_a_game_without_a_market_says_so_and_draws_espn_only(
    game_without_market: Path, chromium: Browser, tmp_path: Path
) -> None:
    # No --kalshi-url: the replay's own fake Kalshi, which has no market of this game.
    page_errors: list[str] = []
    with running_server([game_without_market], tmp_path, SPEED, env=MARKETS_ON) as srv:
        page = chromium.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.goto(f"{srv.base_url}/#/live")
        cell = page.locator(f'[data-game-id="{NO_MARKET_GAME}"] [data-testid="game-market"]')
        expect(cell).to_have_attribute("data-market", "absent", timeout=3 * UI_MS)
        expect(cell).to_have_text(re.compile(r"—"))
        expect(cell).to_have_attribute("title", re.compile("No Kalshi market for this game"))

        open_game_from_list(page, srv, NO_MARKET_GAME)
        chart = page.get_by_test_id("wp-chart")
        note = page.get_by_test_id("market-note")
        expect(note).to_have_text("No Kalshi market for this game", timeout=UI_MS)
        expect(note).to_have_attribute("title", re.compile(NO_MARKET_EVENT))
        expect(chart).to_have_attribute("data-market", "absent")
        health = page.get_by_test_id("source-health")
        expect(health).to_contain_text("Market absent", timeout=UI_MS)
        wait_for(lambda: int_attr(page, "data-points") > 20, "ESPN points are drawn", 60)
        time.sleep(1.0)  # a while later: still no market line
        assert int_attr(page, "data-market-points") == 0
        expect(chart.locator(".wp-caption")).not_to_contain_text("Kalshi")  # no market price
        events = all_events(srv, NO_MARKET_GAME)
        assert not [e for e in events if e["type"] == "market"]
        page.close()
    assert page_errors == [], f"errors in the page: {page_errors}"


@pytest.mark.browser
def test_the_demo_game_page_draws_espn_and_the_real_market_with_the_gap_between_them(
    nba_game: Path, chromium: Browser, tmp_path: Path, recordings_dir: Path
) -> None:
    # No --kalshi-url: the replay's own fake Kalshi serves the recorded candles of NYK (README
    # section 8), paired with the game by its event ticker as `make demo` does; IND derived.
    csv = recordings_dir / "kalshi" / "plourr03-in-game-trading" / f"kalshi_{NYK}_1min_candles.csv"
    closes = {
        round(float(row.split(",")[7]) / 100, 2)
        for row in csv.read_text(encoding="utf-8").splitlines()[1:]
        if row.split(",")[7]
    }
    page_errors: list[str] = []
    with running_server([nba_game], tmp_path, SPEED, env=MARKETS_ON) as srv:
        page = chromium.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        open_game_from_list(page, srv)
        chart = page.get_by_test_id("wp-chart")
        wait_for(lambda: int_attr(page, "data-market-points") > 20, "market points are drawn", 60)
        wait_for(lambda: int_attr(page, "data-points") > 20, "ESPN points are drawn", 60)

        # The legend shows a value for both lines (the latest, with the cursor off the chart).
        for label in ("ESPN", "Kalshi market"):
            row = page.locator(".wp-plot .u-legend .u-series", has_text=label)
            expect(row.locator(".u-value")).to_have_text(re.compile(r"^\d+\.\d%$"), timeout=UI_MS)

        # The gap is ESPN − market of the two values the caption shows, read together.
        caption, gap = page.evaluate(
            """() => [document.querySelector('.wp-caption').textContent,
                      document.querySelector('[data-testid="market-gap"]').textContent]"""
        )
        found = re.search(r"ESPN (\d+\.\d)% · Kalshi market (\d+\.\d)%", caption)
        assert found, caption
        espn, market = float(found[1]), float(found[2])
        shown = re.fullmatch(r"ESPN − market: ([+−]?)(\d+\.\d) pts", gap)
        assert shown, gap
        value = float(shown[2]) * (-1 if shown[1] == "−" else 1)
        assert value == pytest.approx(espn - market, abs=0.11), (caption, gap)

        # Real prices: every NYK point's last trade is a recorded close; the Pacers won.
        snapshot = wait_for(lambda: stream_ended(srv), "the stream ends", STREAM_END_S, 0.5)
        nyk = [p for p in snapshot["market"] if p["ticker"] == NYK and p["last"] is not None]
        assert len(nyk) > 100 and {round(p["last"], 2) for p in nyk} <= closes
        last_price = snapshot["market"][-1]["implied_home"]
        assert last_price >= 0.95
        expect(chart.locator(".wp-caption")).to_contain_text(
            f"Kalshi market {last_price * 100:.1f}%", timeout=UI_MS
        )
        expect(page.get_by_test_id("market-gap")).to_be_visible()
        # Only NYK's prices were recorded: the chart says the IND line is derived from them.
        expect(page.get_by_test_id("market-note")).to_contain_text(
            f"{NYK[:-3]}IND: not recorded: derived as 100 − the prices of {NYK}", timeout=UI_MS
        )
        page.close()
    assert page_errors == [], f"errors in the page: {page_errors}"
