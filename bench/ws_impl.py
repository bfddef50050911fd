"""Which WebSocket server implementation fans one pre-encoded message out fastest, and at what cost.

Each implementation runs in its own server process on 127.0.0.1 with N clients spread over
client processes (bench/_wsclient.py: a bare asyncio protocol per connection). The server is
told to broadcast one ~400-byte JSON message (encoded once) to every client, B times; each
client stamps its receive time with `time.time_ns()`, which all processes on one host share.
Per broadcast: time to last delivery (last receive minus the server's start stamp), and the
median delivery. Per run: server RSS per connection (VmRSS after connecting minus before, over N)
and server CPU per broadcast. Implementations:

- uvicorn-naive:  uvicorn + Starlette ASGI WebSocket, permessage-deflate off, the seed's loop:
                  `for ws in clients: await ws.send_text(msg)` under a lock;
- uvicorn-tasks:  the same server, one writer task and queue per client (what a hub does);
- uvicorn-frames: the same server and URL, but the broadcast writes one pre-built WebSocket frame
                  straight to each connection's transport (a uvicorn `ws=` protocol class that
                  puts itself in the ASGI scope's extensions; no ASGI send per client);
- uvicorn-native: the same uvicorn server, but a `ws=` protocol class that answers the live path's
                  handshake itself and joins the broadcast set, with no ASGI app task at all
                  (the floor of memory per connection under uvicorn);
- websockets:     the `websockets` library's asyncio server, `broadcast()` (no compression);
- picows:         picows (Cython), `transport.send()` to every connection (if installed).

    .venv/bin/python bench/ws_impl.py                         # N = 2000 and 10000, 20 broadcasts
    .venv/bin/python bench/ws_impl.py --clients 2000 --broadcasts 30 --impl websockets picows

Prints a table and one JSON line (`{"bench": "ws_impl", ...}`) last. Every process it starts is
stopped on exit; each phase has a time bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import multiprocessing as mp
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _wsclient import Client, connect, raise_fd_limit

IMPLS = (
    "uvicorn-naive",
    "uvicorn-tasks",
    "uvicorn-frames",
    "uvicorn-native",
    "websockets",
    "picows",
)
PER_PROCESS = 2500
PAD = "x" * 180


def message(bid: int) -> bytes:
    """An events message in the protocol's shape, ~400 bytes; `b` first for a fast parse."""
    play = {
        "id": f"40175684{bid}",
        "sequence": bid,
        "period": 2,
        "clock": "12:01",
        "text": f"J.Smith run for 4 yards to the KSU 31 {PAD}",
        "scoring": False,
    }
    body = {"seq": bid, "type": "play_added", "at": "2025-08-23T16:08:12Z", "data": play}
    return json.dumps({"b": bid, "type": "events", "v": 1, "events": [body]}).encode()


# ---------------------------------------------------------------- servers (run with --serve)


async def serve_uvicorn(port: int, mode: str, ws: Any) -> Any:
    """A Starlette app under uvicorn; returns its broadcast coroutine function."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    clients: dict[WebSocket, asyncio.Queue[str]] = {}
    lock = asyncio.Lock()

    async def writer(socket: WebSocket, outbox: asyncio.Queue[str]) -> None:
        while True:
            await socket.send_text(await outbox.get())

    async def endpoint(socket: WebSocket) -> None:
        await socket.accept()
        outbox: asyncio.Queue[str] = asyncio.Queue(64)
        clients[socket] = outbox
        task = asyncio.create_task(writer(socket, outbox)) if mode == "tasks" else None
        try:
            while (await socket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            clients.pop(socket, None)
            if task is not None:
                task.cancel()

    async def naive(payload: bytes) -> None:
        text = payload.decode()
        async with lock:
            for socket in list(clients):
                try:
                    await socket.send_text(text)
                except Exception:
                    clients.pop(socket, None)

    async def fan(payload: bytes) -> None:
        text = payload.decode()
        for outbox in clients.values():
            with contextlib.suppress(asyncio.QueueFull):
                outbox.put_nowait(text)

    direct: set[Any] = set()

    async def direct_endpoint(socket: WebSocket) -> None:
        await socket.accept()
        protocol = socket.scope["extensions"][DIRECT]["protocol"]
        direct.add(protocol)
        try:
            while (await socket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            direct.discard(protocol)

    async def frames(payload: bytes) -> None:
        frame = server_frame(payload)
        for protocol in direct:
            if protocol.conn.state is OPEN and not protocol.transport.is_closing():
                protocol.transport.write(frame)

    if mode in ("frames", "native"):
        from websockets.protocol import OPEN

        app = Starlette(routes=[WebSocketRoute("/ws", direct_endpoint)])
        ws = direct_protocol() if mode == "frames" else native_protocol(direct)
        broadcast = frames
    else:
        app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
        broadcast = naive if mode == "naive" else fan
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws=ws,
        ws_per_message_deflate=False,
        backlog=4096,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return broadcast


DIRECT = "pressbox.direct"


def direct_protocol() -> Any:
    """uvicorn's default WebSocket protocol, which also hands itself to the app in the scope."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    class DirectProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            self.scope["extensions"][DIRECT] = {"protocol": self}  # type: ignore[index]

    return DirectProtocol


def native_protocol(members: set[Any]) -> Any:
    """uvicorn's default WebSocket protocol, but `/ws` connections skip the ASGI app: the
    handshake is answered here and the connection joins `members` until it is lost."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    class NativeProtocol(WebSocketsSansIOProtocol):
        native = False

        def handle_connect(self, event: Any) -> None:
            if event.path.partition("?")[0] != "/ws":
                super().handle_connect(event)
                return
            self.request = event
            self.response = self.conn.accept(event)
            self.handshake_initiated = self.handshake_complete = True
            self.conn.send_response(self.response)
            self.transport.write(b"".join(self.conn.data_to_send()))
            if self.response.status_code != 101:
                self.transport.close()
                return
            self.native = True
            self.start_keepalive()
            members.add(self)

        def send_receive_event_to_app(self) -> None:
            if self.native:
                self.frames = []  # a viewer's ping: read and dropped here
                return
            super().send_receive_event_to_app()

        def connection_lost(self, exc: Exception | None) -> None:
            members.discard(self)
            super().connection_lost(exc)

    return NativeProtocol


def server_frame(payload: bytes) -> bytes:
    """One unmasked text frame: the same bytes for every connection."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


async def serve_websockets(port: int) -> Any:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    clients: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        clients.add(connection)
        try:
            async for _ in connection:
                pass
        finally:
            clients.discard(connection)

    await serve(handler, "127.0.0.1", port, compression=None, max_size=65536, backlog=4096)

    async def fan(payload: bytes) -> None:
        broadcast(clients, payload, text=True)

    return fan


async def serve_picows(port: int) -> Any:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

    clients: set[WSTransport] = set()

    class Viewer(WSListener):  # type: ignore[misc]
        def on_ws_connected(self, transport: WSTransport) -> None:
            clients.add(transport)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            clients.discard(transport)

    await ws_create_server(
        lambda request: Viewer() if request.path == b"/ws" or request.path == "/ws" else None,
        "127.0.0.1",
        port,
        backlog=4096,
    )

    async def fan(payload: bytes) -> None:
        for transport in clients:
            transport.send(WSMsgType.TEXT, payload)

    return fan


async def serve(impl: str, port: int, uvicorn_ws: str) -> None:
    """Serve until stdin says `q`; `b ID` broadcasts and prints `sent ID start_ns end_ns`."""
    raise_fd_limit(40_000)
    logging.getLogger("websockets").setLevel(logging.CRITICAL)  # clients leave without closing
    if impl.startswith("uvicorn-"):
        fan = await serve_uvicorn(port, impl.removeprefix("uvicorn-"), uvicorn_ws)
    elif impl == "websockets":
        fan = await serve_websockets(port)
    else:
        fan = await serve_picows(port)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(f"ready {os.getpid()}", flush=True)
    while line := (await reader.readline()).decode().split():
        if line[0] == "q":
            break
        bid = int(line[1])
        payload = message(bid)
        started = time.time_ns()
        await fan(payload)
        print(f"sent {bid} {started} {time.time_ns()}", flush=True)
    os._exit(0)  # no graceful close of 10,000 connections: the harness is done with them


# ---------------------------------------------------------------- clients (child processes)


def client_main(
    index: int, port: int, count: int, source_ip: str, out: Any, stop: Any, expect: int
) -> None:
    """Open `count` connections, report each broadcast once all of them got it, then the times."""
    raise_fd_limit(count + 100)
    received: dict[int, list[int]] = {}

    def on_message(_client: Client, payload: bytes, now: int) -> None:
        bid = int(payload[5 : payload.index(b",")])
        times = received.setdefault(bid, [])
        times.append(now)
        if len(times) == count:
            out.put(("got", index, bid))

    async def run() -> None:
        gate = asyncio.Semaphore(64)
        clients: list[Client] = []

        async def one() -> None:
            for attempt in range(5):
                async with gate:
                    try:
                        clients.append(await connect(port, "/ws", on_message, source_ip=source_ip))
                        return
                    except (OSError, TimeoutError):
                        await asyncio.sleep(0.2 * (attempt + 1))

        async with asyncio.timeout(180):
            await asyncio.gather(*(one() for _ in range(count)))
        out.put(("up", index, len(clients)))
        await asyncio.to_thread(stop.wait, 60 + expect * 15)
        out.put(("done", index, received))
        for client in clients:
            client.abort()

    asyncio.run(run())


# ---------------------------------------------------------------- the harness


@dataclass
class Run:
    """One implementation at one N."""

    impl: str
    clients: int
    connected: int = 0
    rss_base_kib: int = 0
    rss_connected_kib: int = 0
    rss_after_kib: int = 0
    cpu_seconds: float = 0.0
    last_ms: list[float] = field(default_factory=list)
    median_ms: list[float] = field(default_factory=list)
    loop_ms: list[float] = field(default_factory=list)
    missing: int = 0
    error: str = ""

    def figures(self) -> dict[str, Any]:
        per_conn = (self.rss_connected_kib - self.rss_base_kib) / max(1, self.connected)
        after = (self.rss_after_kib - self.rss_base_kib) / max(1, self.connected)
        return {
            "impl": self.impl,
            "clients": self.clients,
            "connected": self.connected,
            "broadcasts": len(self.last_ms),
            "last_ms_p50": _pct(self.last_ms, 50),
            "last_ms_p99": _pct(self.last_ms, 99),
            "delivery_ms_p50": _pct(self.median_ms, 50),
            "server_loop_ms_p50": _pct(self.loop_ms, 50),
            "rss_kib_per_conn": round(per_conn, 1),
            "rss_kib_per_conn_after": round(after, 1),
            "cpu_ms_per_broadcast": round(1000 * self.cpu_seconds / max(1, len(self.last_ms)), 1),
            "missing_deliveries": self.missing,
            "error": self.error,
        }


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)], 1)


def vmrss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """The server under test in a subprocess, driven through its stdin and stdout."""

    def __init__(self, impl: str, port: int, uvicorn_ws: str) -> None:
        self.port = port
        command = [sys.executable, __file__, "--serve", impl, "--port", str(port)]
        command += ["--uvicorn-ws", uvicorn_ws]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self.line(30).split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"{impl} server did not start")
        self.pid = int(ready[1])

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def line(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def tell(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.tell("q")
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def measure(impl: str, n: int, broadcasts: int, run_no: int, uvicorn_ws: str) -> Run:
    """Start the server and the clients, broadcast, collect; always stops every process."""
    result = Run(impl, n)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    stop = ctx.Event()
    procs = max(2, math.ceil(n / PER_PROCESS))
    server = ServerProcess(impl, free_port(), uvicorn_ws)
    children: list[Any] = []
    try:
        time.sleep(0.3)
        result.rss_base_kib = vmrss_kib(server.pid)
        port = server.port
        for k in range(procs):
            share = n // procs + (1 if k < n % procs else 0)
            ip = f"127.0.{run_no % 250 + 1}.{k + 1}"
            child = ctx.Process(
                target=client_main, args=(k, port, share, ip, out, stop, broadcasts), daemon=True
            )
            child.start()
            children.append(child)
        for _ in range(procs):
            kind, _k, up = out.get(timeout=240)
            result.connected += up
        time.sleep(1.0)
        result.rss_connected_kib = vmrss_kib(server.pid)
        _log(f"{impl} N={n}: {result.connected} connected, {result.rss_connected_kib} KiB")
        started = {}
        cpu0 = cpu_seconds(server.pid)
        for bid in range(1, broadcasts + 2):  # broadcast 1 warms up and is not counted
            server.tell(f"b {bid}")
            sent = server.line(30).split()
            if len(sent) < 4:
                raise RuntimeError("server stopped answering")
            started[bid] = (int(sent[2]), int(sent[3]))
            got = 0
            deadline = time.monotonic() + 15
            while got < procs and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    kind, _k, which = out.get(timeout=0.5)
                    got += kind == "got" and which == bid
            if got < procs:
                _log(f"  broadcast {bid}: only {got}/{procs} processes got everything")
            time.sleep(0.1)
        result.cpu_seconds = cpu_seconds(server.pid) - cpu0
        result.rss_after_kib = vmrss_kib(server.pid)
        stop.set()
        received: dict[int, list[int]] = {}
        for _ in range(procs):
            while True:
                kind, _k, data = out.get(timeout=60)
                if kind == "done":
                    break
            for bid, times in data.items():
                received.setdefault(bid, []).extend(times)
        for bid in range(2, broadcasts + 2):
            times = received.get(bid, [])
            result.missing += result.connected - len(times)
            t0, t1 = started[bid]
            if times:
                result.last_ms.append((max(times) - t0) / 1e6)
                result.median_ms.append((statistics.median(times) - t0) / 1e6)
            result.loop_ms.append((t1 - t0) / 1e6)
    except Exception as exc:  # report and go on with the next implementation
        result.error = repr(exc)
        _log(f"{impl} N={n}: {exc!r}")
    finally:
        stop.set()
        server.stop()
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join(5)
    return result


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def table(runs: list[Run]) -> str:
    head = (
        f"{'impl':<15}{'N':>7}{'conn':>7}{'last p50':>10}{'last p99':>10}{'median':>9}"
        f"{'loop':>8}{'KiB/conn':>10}{'cpu ms/b':>10}{'missing':>9}"
    )
    rows = [head, "-" * len(head)]
    for run in runs:
        f = run.figures()
        rows.append(
            f"{f['impl']:<15}{f['clients']:>7}{f['connected']:>7}{_ms(f['last_ms_p50']):>10}"
            f"{_ms(f['last_ms_p99']):>10}{_ms(f['delivery_ms_p50']):>9}"
            f"{_ms(f['server_loop_ms_p50']):>8}{f['rss_kib_per_conn']:>10}"
            f"{f['cpu_ms_per_broadcast']:>10}{f['missing_deliveries']:>9}"
        )
    return "\n".join(rows)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def available(impl: str) -> bool:
    if impl != "picows":
        return True
    try:
        import picows  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--broadcasts", type=int, default=20)
    parser.add_argument("--impl", nargs="+", choices=IMPLS, default=list(IMPLS))
    parser.add_argument(
        "--uvicorn-ws", default="auto", help="uvicorn's ws= (auto is websockets-sansio)"
    )
    parser.add_argument("--serve", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.port, args.uvicorn_ws))
        return
    runs: list[Run] = []
    run_no = int(time.time()) % 200
    for n in args.clients:
        for impl in args.impl:
            if not available(impl):
                _log(f"{impl}: not installed, skipped")
                continue
            run_no += 1
            runs.append(measure(impl, n, args.broadcasts, run_no, args.uvicorn_ws))
            time.sleep(1.0)
    print(table(runs))
    figures = [r.figures() for r in runs]
    print(json.dumps({"bench": "ws_impl", "uvicorn_ws": args.uvicorn_ws, "runs": figures}))


if __name__ == "__main__":
    main()
