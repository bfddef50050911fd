"""Fixtures of the browser tests: replay servers and Chromium (helpers in browser_support.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, Server, StartServer, running_server
from playwright.sync_api import Browser, sync_playwright

#: The NCAAF recording at 300x: the whole game takes under ~60 s.
SPEED = 300


@pytest.fixture
def server(ncaaf_postman: Path, tmp_path: Path) -> Iterator[Server]:
    """`pressbox serve --replay` of the NCAAF recording at 300x, with its own SQLite database."""
    with running_server([ncaaf_postman], tmp_path, SPEED) as srv:
        yield srv


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Starts `pressbox serve --replay` servers (recordings, speed, extra environment); each is
    stopped at the end of the test."""
    started = itertools.count(1)
    with ExitStack() as stack:

        def start(
            recordings: Sequence[Path], speed: float = SPEED, env: dict[str, str] | None = None
        ) -> Server:
            workdir = tmp_path / f"server-{next(started)}"
            workdir.mkdir()
            return stack.enter_context(running_server(recordings, workdir, speed, env))

        yield start


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, through Playwright."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
