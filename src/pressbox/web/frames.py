"""Pre-built WebSocket frames written straight to a connection's transport: the live fan-out path.

`FramesProtocol` is uvicorn's default WebSocket protocol (`websockets-sansio`, what
`uvicorn.Config(ws="auto")` resolves to when `websockets` is installed) plus one thing: it puts
itself in the ASGI scope's extensions under `EXTENSION`, as a `FrameSink`. The live hub then
builds each broadcast message's frame once (`text_frame`: server frames are unmasked, so every
connection gets the same bytes) and writes it to each viewer's transport in its broadcast loop:
no ASGI `send`, no task wake-up per delivery (bench/ws_impl.py: ~8.6 µs of server CPU per
delivery against ~13 µs for an awaited ASGI send and ~33 µs with a writer task per viewer).

The handshake, the client's messages (`receive`), keepalive pings and closes of connections
without a sink stay uvicorn's. Under another ASGI server (or an in-process test transport) there
is no sink, and the hub falls back to an outbox drained by a writer task per viewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol, cast

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request

#: The scope extension that carries a connection's `FrameSink`.
EXTENSION = "pressbox.frames"


def text_frame(text: str) -> bytes:
    """One unmasked, final text frame (RFC 6455 5.2) carrying `text`: the same bytes for every
    connection (no extension is negotiated: permessage-deflate is off)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + payload


class FrameSink(Protocol):
    """What the hub needs of a connection to write frames to it directly."""

    def send_frame(self, frame: bytes) -> bool:
        """Write `frame` now; False when the connection is closing (nothing written)."""
        ...

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        ...

    async def wait_writable(self) -> None:
        """Return once the write buffer is under its low-water mark (or the sink closed)."""
        ...

    def close_frames(self, code: int, reason: str, abort_after: float) -> None:
        """Send a close frame, stop writing, and end the app's `receive`; the transport is
        closed when the client answers, or aborted (its buffer dropped) after `abort_after` s."""
        ...


def frame_sink(scope: Mapping[str, Any]) -> FrameSink | None:
    """The connection's sink, when the server is uvicorn with `FramesProtocol`."""
    extensions = scope.get("extensions") or {}
    sink = extensions.get(EXTENSION)
    return cast(FrameSink, sink) if sink is not None else None


class _Inbox:
    """What uvicorn's protocol uses of its `asyncio.Queue` of ASGI receive events (put_nowait,
    get, empty), for its one reader, without the queue's three deques (~2 KiB a connection)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class _Flag:
    """What uvicorn's protocol uses of its `writable` `asyncio.Event` (set, clear, wait, is_set),
    without a deque of waiters per connection until someone waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter


class FramesProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol that is also a `FrameSink` in the scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = cast(Any, _Inbox())
        self.writable = cast(Any, _Flag())

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # else there is no scope: the request was refused
            cast(dict[str, Any], self.scope)["extensions"][EXTENSION] = self

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and hasattr(self, "response"):
            # The handshake's request and response (their headers: ~3 KiB) are not read again.
            del self.request, self.response

    def send_frame(self, frame: bytes) -> bool:
        if self.close_sent or self.transport.is_closing():
            return False
        self.transport.write(frame)
        return True

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    async def wait_writable(self) -> None:
        await self.writable.wait()

    def close_frames(self, code: int, reason: str, abort_after: float) -> None:
        if self.disconnected:
            return
        # Wake the app's reader, and whoever waits to write: nothing more is written.
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.writable.set()
        if not self.close_sent and not self.transport.is_closing():
            self.close_sent = True
            try:
                self.conn.send_close(code, reason)
            except InvalidState:  # the client's close crossed ours: nothing left to say
                self.transport.abort()
                return
            self.transport.write(b"".join(self.conn.data_to_send()))
            if self.read_paused:  # read the client's answering close
                self.read_paused = False
                self.transport.resume_reading()
        # Also when uvicorn closed it (a keepalive timeout): a close waits for the buffer to
        # drain, which a client that does not read never lets happen. uvicorn cancels this
        # timer and closes the transport on the client's close frame.
        if self.close_timer is None:
            self.close_timer = self.loop.call_later(abort_after, self.transport.abort)
