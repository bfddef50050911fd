"""One live connection as the hub sees it: where it is in the game's log, and how it is written.

`position` is the seq of the last event queued to the viewer (a snapshot counts as its seq). The
game's channel queues a batch only to a `live` viewer, and only what continues `position`, so the
viewer gets each event once and in order; while it catches up (a snapshot, a resume) it is not
live and the channel leaves it alone.

Two ways to write, chosen per connection by what the server offers:

- `FrameViewer` (uvicorn with `frames.FramesProtocol`, the production server): each message is
  written as a frame straight to the connection's transport, in the caller's step; the
  transport's write buffer is the bounded outbox; no task of its own;
- `QueuedViewer` (any other ASGI server, in-process test clients): a byte-bounded `Outbox`
  drained by a writer task through the ASGI `send`;
- `web.sse.SseViewer`: a Server-Sent Events stream, its outbox drained by the HTTP response.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import WebSocket

from pressbox.web.frames import FrameSink, text_frame
from pressbox.web.limits import CloseCode, Refusal
from pressbox.web.outbox import BufferGauge, Outbox

log = logging.getLogger(__name__)

#: Seconds a closed connection's unread bytes are kept for the client to read the close code;
#: then its transport is aborted and the memory freed.
ABORT_AFTER = 5.0
SLOW = "slow consumer: send buffer full; resume from your seq"


class Viewer:
    """A live connection following one game (see the subclasses)."""

    #: How it is written: "frames" or "asgi" (hub stats).
    path = ""

    def __init__(self, game_id: str, limit: int, gauge: BufferGauge) -> None:
        self.game_id = game_id
        self.limit = limit
        self.gauge = gauge
        self.position = 0
        self.live = False
        self.ending: Refusal | None = None

    @property
    def ended(self) -> bool:
        """True once `end` was called: nothing more is written to it."""
        return self.ending is not None

    def offer(self, message: str, *, catch_up: bool = False, frame: bytes | None = None) -> bool:
        """Send `message` (`frame`: its pre-built frame, when the caller has one); a live
        backlog over the limit ends the viewer as a slow consumer. `catch_up`: a message of its
        catch-up, sent beyond the live limit (a snapshot may be larger than it)."""
        raise NotImplementedError

    async def drained(self) -> None:
        """Return once what was sent so far no longer holds up one more catch-up message."""
        raise NotImplementedError

    def buffered(self) -> int:
        """Bytes sent to it and not yet taken by the kernel (or its writer)."""
        raise NotImplementedError

    def go_live(self, position: int) -> None:
        """Everything up to `position` is sent: from now on the channel sends what follows."""
        self.position = position
        self.live = not self.ended

    def end(self, code: CloseCode = CloseCode.NORMAL, reason: str = "") -> None:
        """Stop sending to this viewer and have its connection closed with `code` (first wins)."""
        if self.ended:
            return
        self.live = False
        self.ending = Refusal(code, reason)
        self._ended()

    def _ended(self) -> None:
        raise NotImplementedError

    def _slow(self) -> None:
        log.info("live viewer of game %s is a slow consumer: closing", self.game_id)
        self.end(CloseCode.SLOW_CONSUMER, SLOW)


class FrameViewer(Viewer):
    """Written frame by frame to its transport; see the module docstring.

    The live backlog is the transport's write buffer less the catch-up bytes still in it (the
    buffer drains in order, so those are what this viewer wrote up to its last catch-up message,
    less what the kernel took). A live message that would take a non-empty backlog past the limit
    ends the viewer: a close frame, then the transport is closed, or aborted after ABORT_AFTER if
    the client does not read it, so at most about the limit stays held.
    """

    path = "frames"

    def __init__(self, sink: FrameSink, game_id: str, limit: int, gauge: BufferGauge) -> None:
        super().__init__(game_id, limit, gauge)
        self.sink = sink
        self._written = 0
        self._catch_up_end = 0

    def offer(self, message: str, *, catch_up: bool = False, frame: bytes | None = None) -> bool:
        if self.ending is not None:
            return False
        data = text_frame(message) if frame is None else frame
        if not catch_up:
            buffered = self.sink.buffered()
            catching_up = self._catch_up_end - (self._written - buffered)
            backlog = buffered - catching_up if catching_up > 0 else buffered
            if backlog > 0 and backlog + len(data) > self.limit:
                self.gauge.overflows += 1
                self._slow()
                return False
            if backlog + len(data) > self.gauge.peak:
                self.gauge.peak = backlog + len(data)
        if not self.sink.send_frame(data):
            self.end()  # the connection is closing: its reader sees the disconnect
            return False
        self._written += len(data)
        if catch_up:
            self._catch_up_end = self._written
        return True

    async def drained(self) -> None:
        await self.sink.wait_writable()

    def buffered(self) -> int:
        return 0 if self.ending is not None else self.sink.buffered()

    def _ended(self) -> None:
        assert self.ending is not None
        self.sink.close_frames(int(self.ending.code), self.ending.reason, ABORT_AFTER)


class OutboxViewer(Viewer):
    """Queued to a byte-bounded outbox, which its connection's writer drains."""

    def __init__(self, game_id: str, limit: int, gauge: BufferGauge) -> None:
        super().__init__(game_id, limit, gauge)
        self.outbox = Outbox(limit, gauge)
        self._ended_event = asyncio.Event()

    def offer(self, message: str, *, catch_up: bool = False, frame: bytes | None = None) -> bool:
        if self.ended:
            return False
        if self.outbox.offer(message, catch_up=catch_up):
            return True
        self._slow()
        return False

    async def drained(self) -> None:
        await self.outbox.drained()

    def buffered(self) -> int:
        return self.outbox.buffered

    def _ended(self) -> None:
        self.outbox.clear()
        self._ended_event.set()

    async def wait_ended(self) -> None:
        """Return once the viewer was ended."""
        await self._ended_event.wait()


class QueuedViewer(OutboxViewer):
    """A WebSocket whose outbox its `write` task drains through the ASGI send."""

    path = "asgi"

    def __init__(self, ws: WebSocket, game_id: str, limit: int, gauge: BufferGauge) -> None:
        super().__init__(game_id, limit, gauge)
        self.ws = ws

    async def write(self) -> None:
        """Send queued messages in order until cancelled (or the socket fails)."""
        while True:
            message = await self.outbox.take()
            await self.ws.send_text(message)
