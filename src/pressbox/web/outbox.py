"""A live connection's bounded send buffer, counted in bytes.

The hub hands every viewer of a game the same encoded message; each viewer's writer task drains
its own outbox, so no viewer waits on another. A viewer that falls more than the buffer behind is
a slow consumer: its outbox refuses the message, drops what it held, and stays refused (the
connection is then closed with 4008 and the client resumes from its last seq).

Messages are ASCII JSON (`json.dumps` escapes the rest), so a message's length is its size on the
wire, and the transport's UTF-8 encoding of it is a plain copy.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass
class BufferGauge:
    """Bytes held by every outbox that shares it, and the largest live backlog of any one."""

    buffered: int = 0
    peak: int = 0
    overflows: int = 0


class Outbox:
    """Messages waiting for one connection's writer; at most `limit` bytes of live backlog.

    A live message always fits when no other live message waits (a batch may be larger than the
    limit); otherwise one that would take the backlog past `limit` overflows the outbox. Catch-up
    messages (a snapshot, missed events: sent once per join or resume, one step at a time) are
    queued on top of the limit, so a live batch arriving right behind one does not overflow.
    """

    def __init__(self, limit: int, gauge: BufferGauge | None = None) -> None:
        self.limit = limit
        self.gauge = gauge or BufferGauge()
        self.buffered = 0
        self.backlog = 0
        self.overflowed = False
        self._messages: deque[tuple[str, bool]] = deque()
        self._ready = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()

    def offer(self, message: str, *, catch_up: bool = False) -> bool:
        """Queue `message`; False when the outbox overflowed now or before."""
        if self.overflowed:
            return False
        size = len(message)
        if not catch_up:
            if self.backlog and self.backlog + size > self.limit:
                self._overflow()
                return False
            self.backlog += size
            self.gauge.peak = max(self.gauge.peak, self.backlog)
        self._messages.append((message, catch_up))
        self._add(size)
        self._ready.set()
        self._empty.clear()
        return True

    def take_nowait(self) -> str | None:
        """The oldest message, or None when there is none."""
        if not self._messages:
            return None
        message, catch_up = self._messages.popleft()
        self._add(-len(message))
        if not catch_up:
            self.backlog -= len(message)
        if not self._messages:
            self._ready.clear()
            self._empty.set()
        return message

    async def take(self) -> str:
        """The oldest message, waiting for one."""
        while (message := self.take_nowait()) is None:
            await self._ready.wait()
        return message

    async def drained(self) -> None:
        """Return once the writer took every queued message (at once if it did)."""
        await self._empty.wait()

    def clear(self) -> None:
        """Drop every queued message (the connection is ending)."""
        self._messages.clear()
        self._add(-self.buffered)
        self.backlog = 0
        self._ready.clear()
        self._empty.set()

    def _overflow(self) -> None:
        self.overflowed = True
        self.gauge.overflows += 1
        self.clear()

    def _add(self, size: int) -> None:
        self.buffered += size
        self.gauge.buffered += size
