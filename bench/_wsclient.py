"""A lean WebSocket client for load generation: a few thousand connections per process.

The `websockets` client costs tens of KiB and a task per connection; this one is a bare asyncio
protocol that parses the server's (unmasked) frames, answers pings and closes, and hands each
text or binary message to a callback with its receive time (`time.time_ns()`, comparable across
processes on one host). A `slow` client reads at most `rate` bytes per second from a socket with
a small receive buffer, so back pressure reaches the server quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import struct
import time
from collections.abc import Callable

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # any 16-byte base64 value is valid
ZERO_MASK = b"\x00\x00\x00\x00"  # a zero mask leaves the payload as it is: no copy to xor
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

OnMessage = Callable[["Client", bytes, int], None]


def raise_fd_limit(want: int) -> int:
    """Raise this process's open-file limit towards `want` (root may lift the hard limit too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in ((max(want, soft), max(want, hard)), (min(want, hard), hard)):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)
            break
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def handshake(path: str, port: int) -> bytes:
    return (
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        ).encode()
        + b"Sec-WebSocket-Key: "
        + KEY
        + b"\r\n\r\n"
    )


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked (client-to-server) frame with a zero mask."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + ZERO_MASK + payload


class Client(asyncio.Protocol):
    """One WebSocket connection; `tag` is the caller's (e.g. the game and the client's state)."""

    def __init__(self, path: str, port: int, on_message: OnMessage, tag: object = None) -> None:
        self.path = path
        self.port = port
        self.on_message = on_message
        self.tag = tag
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.heard: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._fragments = bytearray()
        self._open = False
        self.close_code = 0
        self.opened_ns = 0  # when the upgrade completed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(handshake(self.path, self.port))

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        self._buffer += data
        if not self._open:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self._buffer[:end])
            del self._buffer[: end + 4]
            if not status.startswith(b"HTTP/1.1 101"):
                self._fail(ConnectionError(status.split(b"\r\n", 1)[0].decode(errors="replace")))
                return
            self._open = True
            self.opened_ns = now
            self.upgraded.set_result(None)
        self._parse(now)

    def _parse(self, now: int) -> None:
        buf = self._buffer
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n, pos = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, pos = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, pos = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) < pos + n:
                return
            payload = bytes(buf[pos : pos + n])
            del buf[: pos + n]
            self._frame(b0 & 0x80, b0 & 0x0F, payload, now)

    def _frame(self, fin: int, opcode: int, payload: bytes, now: int) -> None:
        if opcode in (0, 1, 2):
            if not fin or self._fragments:
                self._fragments += payload
                if not fin:
                    return
                payload = bytes(self._fragments)
                self._fragments.clear()
            if not self.heard.done():
                self.heard.set_result(None)
            self.on_message(self, payload, now)
        elif opcode == 9:
            self.send(10, payload)
        elif opcode == 8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.send(8, payload[:2])
            self.abort()

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self.send(1, text.encode())

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc)
        self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed before the upgrade"))
        if not self.closed.done():
            self.closed.set_result(self.close_code or 1006)


def bound_socket(source_ip: str) -> socket.socket:
    """A TCP socket bound to `source_ip`, its port chosen at connect time (no port exhaustion)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    sock.bind((source_ip, 0))
    sock.setblocking(False)
    return sock


async def connect(
    port: int,
    path: str,
    on_message: OnMessage,
    *,
    source_ip: str = "127.0.0.1",
    tag: object = None,
    within: float = 20.0,
) -> Client:
    """Open one connection and finish its upgrade; raises on refusal or timeout."""
    loop = asyncio.get_running_loop()
    sock = bound_socket(source_ip)
    client: Client | None = None
    try:
        async with asyncio.timeout(within):
            await loop.sock_connect(sock, ("127.0.0.1", port))
            _, client = await loop.create_connection(
                lambda: Client(path, port, on_message, tag), sock=sock
            )
            await client.upgraded
    except BaseException:
        if client is not None and client.transport is not None:
            client.transport.abort()  # the transport owns the socket now
        else:
            sock.close()
        raise
    return client


async def slow_reader(
    port: int, path: str, rate: int, stop: asyncio.Event, *, source_ip: str = "127.0.0.1"
) -> int:
    """A viewer on a slow link: reads at most `rate` bytes a second until `stop`; returns bytes."""
    loop = asyncio.get_running_loop()
    sock = bound_socket(source_ip)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    total = 0
    try:
        async with asyncio.timeout(20):
            await loop.sock_connect(sock, ("127.0.0.1", port))
            await loop.sock_sendall(sock, handshake(path, port))
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            try:
                data = sock.recv(rate)
            except BlockingIOError:
                continue
            if not data:
                break
            total += len(data)
    except OSError:
        pass
    finally:
        sock.close()
    return total
