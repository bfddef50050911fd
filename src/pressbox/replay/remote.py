"""Run on the clock of a replay server in another process (`pressbox replay-server`).

A runner pointed at a replay server must keep the server's replay time, or its cadences and lease
times would not match what the server replays: at 60x a 30 s poll is half a real second. The
server tells its replay time and speed at `/_replay/status`; several processes that read it share
one timeline, to within the second the server rounds its time to.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import httpx

from pressbox.clock import ScaledClock, parse_time
from pressbox.replay.server import STATUS_PATH

log = logging.getLogger(__name__)
STATUS_TIMEOUT = 5.0  # seconds


async def replay_clock(url: str, speed: float | None = None) -> ScaledClock | None:
    """The replay clock of the replay server at `url`, or None if `url` is no replay server.

    `speed` overrides the server's speed (then the two clocks drift apart: a warning says so).
    """
    try:
        async with httpx.AsyncClient(timeout=STATUS_TIMEOUT) as client:
            sent = time.monotonic()
            response = await client.get(url.rstrip("/") + STATUS_PATH)
            round_trip = time.monotonic() - sent
        status = response.json() if response.status_code == 200 else {}
        now = parse_time(status["now"])
        server_speed = float(status.get("speed", 1.0))
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if speed is not None and speed != server_speed:
        log.warning("replay server runs at %gx, this one at %gx: clocks drift", server_speed, speed)
    # The server's time is rounded down to the second and was read half a round trip ago.
    origin = now + timedelta(seconds=0.5 + round_trip / 2 * server_speed)
    return ScaledClock(origin, speed or server_speed)
