"""What the browser tests share: a real `pressbox serve --replay` process on a free loopback port,
and Debian's Chromium launched through Playwright.

Needs the built UI (`cd frontend && npm run build`) and Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

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
#: A game file of the shared recordings: a second game beside the Postman recording.
NFL_GAME = Path("games") / "nfl-401547417" / "summary.json"

SERVER_READY_S = 30.0
UI_MS = 15_000
T = TypeVar("T")


@dataclass
class Server:
    """A running `pressbox serve` process and how to talk to it."""

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

    def stream(self, game_id: str) -> dict[str, Any]:
        """The game's row of `GET /api/streams`."""
        rows = self.get("/api/streams")["streams"]
        [row] = [r for r in rows if r["game_id"] == game_id]
        return dict(row)


#: The `start_server` fixture: (recordings, speed=..., env=...) -> a running Server.
StartServer = Callable[..., Server]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pressbox_executable() -> str:
    beside_python = Path(sys.executable).with_name("pressbox")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("pressbox")
    if found is None:
        pytest.fail("the `pressbox` command is not installed (pip install -e .)")
    return found


def server_command(
    recordings: Sequence[Path], port: int, speed: float, args: Sequence[str] = ()
) -> list[str]:
    replay = [arg for path in recordings for arg in ("--replay", str(path))]
    return [
        pressbox_executable(),
        "serve",
        *replay,
        "--speed",
        str(speed),
        "--stagger",
        "0",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]


@contextmanager
def running_server(
    recordings: Sequence[Path],
    workdir: Path,
    speed: float,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """`pressbox serve --replay` on a free loopback port with its own SQLite database in
    `workdir`; all recordings start together (`--stagger 0`); `args` are more options."""
    if not STATIC_INDEX.exists():
        pytest.fail(f"the UI is not built ({STATIC_INDEX} missing): cd frontend && npm run build")
    port = free_port()
    full_env = {
        **os.environ,
        "PRESSBOX_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'pressbox.db'}",
        "PRESSBOX_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_command(recordings, port, speed, args),
            cwd=workdir,  # no stray .env or database file from the checkout
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    srv = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_ready(srv)
        yield srv
    finally:
        stop(srv)


def stop(srv: Server) -> None:
    """Terminates the server (idempotent)."""
    if srv.process.poll() is not None:
        return
    srv.process.terminate()
    try:
        srv.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.process.kill()
        srv.process.wait(timeout=10)


def wait_until_ready(srv: Server) -> None:
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


def wait_for(check: Callable[[], T | None], what: str, seconds: float, every: float = 0.1) -> T:
    """Polls `check` until it returns something truthy, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting until {what}")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
