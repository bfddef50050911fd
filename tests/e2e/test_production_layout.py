"""The production layout on loopback: PostgreSQL, Redis, a scheduler, two runners and two web
processes behind nginx (Debian's package), following a real NBA game from a replay server.

Viewers connect to each web process directly and through nginx (the WebSocket upgrade crosses
the proxy). Mid-game the web process serving the proxied viewer is killed with SIGKILL: every
viewer it served reconnects (through nginx, which fails over to the other web process) with
`?after=<last seq it applied>`, and every viewer ends with exactly the game's event log: each
event once, in seq order, whichever process the runner and the viewer were on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import PRESSBOX, free_port, processes, wait_for
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

GAME = "401772994"  # Knicks at Pacers, 2025-05-31: 472 plays
NGINX = Path("/usr/sbin/nginx")
SPEED = 400  # the game's 2.5 hours take about 23 s
EVERY = 0.1  # seconds between two checks of wait_for
NOT_UP = (httpx.HTTPError,)  # what a check of a server that does not answer yet raises

NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream pressbox_web {{
        server 127.0.0.1:{web1} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{web2} max_fails=1 fail_timeout=30s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://pressbox_web;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 120s;
            proxy_next_upstream error timeout;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class Viewer:
    """A WebSocket viewer that applies snapshots and events as the UI does, and resumes with
    `?after=` after a disconnect (jittered backoff), over `urls` in turn."""

    name: str
    urls: list[str]
    seq: int = 0
    snapshot_seq: int | None = None
    seqs: list[int] = field(default_factory=list)
    upstreams: list[str] = field(default_factory=list)
    reconnects: int = 0

    async def follow(self, until_seq: Callable[[], int | None], seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        attempt = 0
        while asyncio.get_running_loop().time() < deadline:
            final = until_seq()
            if final is not None and self.seq >= final:
                return
            url = self.urls[attempt % len(self.urls)]
            query = f"?after={self.seq}" if self.seq or self.snapshot_seq is not None else ""
            try:
                async with connect(f"{url}/ws/live/{GAME}{query}", open_timeout=5) as ws:
                    upstream = ws.response.headers.get("X-Upstream") if ws.response else None
                    self.upstreams.append(upstream or url)
                    attempt = 0
                    await self._read(ws, until_seq, deadline)
                    return
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidStatus, TimeoutError):
                self.reconnects += 1
                attempt += 1
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0))
        raise AssertionError(f"{self.name} did not reach the end of the log in {seconds} s")

    async def _read(self, ws: Any, until_seq: Callable[[], int | None], deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            final = until_seq()
            if final is not None and self.seq >= final:
                return
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=2)
            except TimeoutError:
                await ws.send(json.dumps({"type": "ping", "v": 1}))
                continue
            message = json.loads(raw)
            if message["type"] == "snapshot":
                assert self.snapshot_seq is None, f"{self.name}: a second snapshot on resume"
                self.snapshot_seq = self.seq = message["seq"]
            elif message["type"] == "events":
                for event in message["events"]:
                    assert event["seq"] == self.seq + 1, (
                        f"{self.name}: {event['seq']} after {self.seq}"
                    )
                    self.seq = event["seq"]
                    self.seqs.append(event["seq"])


def final_seq(api: str) -> int | None:
    """The game's last seq once its stream completed (None before)."""
    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
        snapshot = httpx.get(f"{api}/api/games/{GAME}", timeout=2).json()
        if snapshot["game"]["stream"]["status"] == "Completed":
            return int(snapshot["seq"])
    return None


def test_two_web_processes_behind_nginx_on_postgres_and_redis(
    tmp_path: Path, recordings_dir: Path, postgres_url: str, private_redis: Any
) -> None:
    if not NGINX.exists():
        pytest.fail("nginx not installed: apt-get install nginx (.ci/run does)")
    redis = private_redis
    env = {
        **os.environ,
        "PRESSBOX_DATABASE_URL": postgres_url,
        "PRESSBOX_BUS_URL": redis.url,
        "PRESSBOX_LOG_LEVEL": "INFO",
        "PRESSBOX_LOG_FORMAT": "json",
        "PRESSBOX_LEAGUES": "nba",
        "PRESSBOX_SCHEDULE_DAYS": "0",
        "PRESSBOX_SCHEDULE_INTERVAL_SECONDS": "60",
        "PRESSBOX_RUNNER_POLL_SECONDS": "30",
        # Replay seconds: 3 s of real time at 400x. Each runner estimates the replay server's
        # clock on its own; a lease much shorter than their disagreement would flap.
        "PRESSBOX_LEASE_TTL_SECONDS": "1200",
        "PRESSBOX_WS_ALLOWED_ORIGINS": "*",
    }
    game = recordings_dir / "games" / "nba-401772994" / "summary.json"
    espn_port, web1, web2, proxy = free_port(), free_port(), free_port(), free_port()
    espn = f"http://127.0.0.1:{espn_port}"
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, web1=web1, web2=web2, port=proxy))
    try:
        with processes(tmp_path, terminate=True) as start:
            migrate = subprocess.run(
                [*PRESSBOX, "migrate"], env=env, capture_output=True, timeout=60
            )
            assert migrate.returncode == 0, migrate.stderr.decode()
            start("nginx", [str(NGINX), "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                  env)  # fmt: skip
            webs = {
                port: start(
                    f"web-{port}", [*PRESSBOX, "serve", "--role", "web", "--port", str(port)], env
                )  # fmt: skip
                for port in (web1, web2)
            }
            for port in (web1, web2, proxy):
                wait_for(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/readyz").is_success,
                         f"port {port} is ready", 30, every=EVERY, ignore=NOT_UP)  # fmt: skip
            start("espn", [*PRESSBOX, "replay-server", str(game), "--speed", str(SPEED),
                           "--port", str(espn_port)], env)  # fmt: skip
            wait_for(
                lambda: httpx.get(f"{espn}/_replay/status").is_success,
                "replay server",
                30,
                every=EVERY,
                ignore=NOT_UP,
            )
            start("scheduler", [*PRESSBOX, "serve", "--role", "scheduler", "--espn-url", espn], env)
            api = f"http://127.0.0.1:{proxy}"
            wait_for(
                lambda: httpx.get(f"{api}/api/games/{GAME}").is_success,
                "the game",
                30,
                every=EVERY,
                ignore=NOT_UP,
            )
            for n in (1, 2):
                start(f"runner-{n}", [*PRESSBOX, "serve", "--role", "runner", "--espn-url", espn],
                      env)  # fmt: skip

            proxied = Viewer("proxied", [f"ws://127.0.0.1:{proxy}"])
            direct = [
                Viewer(f"on {port}", [f"ws://127.0.0.1:{port}", f"ws://127.0.0.1:{proxy}"])
                for port in (web1, web2)
            ]

            async def watch() -> None:
                final: list[int] = []

                def until() -> int | None:
                    return final[0] if final else None

                async def poll_final() -> None:
                    while not final:
                        if (seq := await asyncio.to_thread(final_seq, api)) is not None:
                            final.append(seq)
                        await asyncio.sleep(0.5)

                async def kill_proxied_backend() -> None:
                    for _ in range(3000):  # bounded: until the viewer is well into the game
                        if proxied.upstreams and proxied.seq >= 50:
                            break
                        await asyncio.sleep(0.05)
                    port = int(proxied.upstreams[-1].rsplit(":", 1)[1])
                    webs[port].send_signal(signal.SIGKILL)

                await asyncio.wait_for(
                    asyncio.gather(
                        poll_final(),
                        kill_proxied_backend(),
                        *(v.follow(until, 150) for v in (proxied, *direct)),
                    ),
                    timeout=170,
                )

            asyncio.run(watch())
            last = final_seq(api)
            assert last is not None and last > 500
            for viewer in (proxied, *direct):
                start_seq = viewer.snapshot_seq or 0
                assert viewer.seqs == list(range(start_seq + 1, last + 1)), viewer.name
            assert proxied.reconnects >= 1 and len(set(proxied.upstreams)) == 2
            assert sum(v.reconnects >= 1 for v in direct) == 1  # the killed process's viewer
            plays = httpx.get(f"{api}/api/games/{GAME}", timeout=5).json()["plays"]
            assert len(plays) == 472
    finally:
        shutil.rmtree(prefix / "proxy", ignore_errors=True)
