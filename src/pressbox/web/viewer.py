"""One live connection as the hub sees it: where it is in the game's log, and its outbox.

`position` is the seq of the last event queued to the viewer (a snapshot counts as its seq). The
game's channel queues a batch only to a `live` viewer, and only what continues `position`, so the
viewer gets each event once and in order; while it catches up (a snapshot, a resume) it is not
live and the channel leaves it alone.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import WebSocket

from pressbox.web.limits import CloseCode, Refusal
from pressbox.web.outbox import BufferGauge, Outbox

log = logging.getLogger(__name__)


class Viewer:
    """A WebSocket connection following one game."""

    def __init__(self, ws: WebSocket, game_id: str, buffer: int, gauge: BufferGauge) -> None:
        self.ws = ws
        self.game_id = game_id
        self.outbox = Outbox(buffer, gauge)
        self.position = 0
        self.live = False
        self.ending: Refusal | None = None
        self._ended = asyncio.Event()

    @property
    def ended(self) -> bool:
        """True once `end` was called: nothing more is queued to it."""
        return self._ended.is_set()

    def offer(self, message: str, *, catch_up: bool = False) -> bool:
        """Queue `message`; a full outbox ends the viewer as a slow consumer. `catch_up`: a
        message of its catch-up, queued beyond the live limit (see Outbox)."""
        if self.ended:
            return False
        if self.outbox.offer(message, catch_up=catch_up):
            return True
        log.info("live viewer of game %s is a slow consumer: closing", self.game_id)
        self.end(CloseCode.SLOW_CONSUMER, "slow consumer: send buffer full; resume from your seq")
        return False

    def go_live(self, position: int) -> None:
        """Everything up to `position` is queued: from now on the channel queues what follows."""
        self.position = position
        self.live = not self.ended

    def end(self, code: CloseCode = CloseCode.NORMAL, reason: str = "") -> None:
        """Stop queueing to this viewer and have its connection closed with `code` (first wins)."""
        if self.ended:
            return
        self.live = False
        self.ending = Refusal(code, reason)
        self.outbox.clear()
        self._ended.set()

    async def wait_ended(self) -> None:
        """Return once the viewer was ended."""
        await self._ended.wait()

    async def write(self) -> None:
        """Send queued messages in order until cancelled (or the socket fails)."""
        while True:
            message = await self.outbox.take()
            await self.ws.send_text(message)
