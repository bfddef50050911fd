"""The live hub against real WebSocket clients on loopback: resume exactness, slow consumers,
heartbeats and dead peers, and every limit refused with its documented close code."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

import stores
from pressbox.bus import MemoryBus
from pressbox.clock import ScaledClock
from pressbox.domain.events import Event, StoredEvent
from pressbox.store import Store
from pressbox.web import create_app
from pressbox.web import viewer as viewer_module
from pressbox.web.frames import FramesProtocol, text_frame
from pressbox.web.hub import Hub
from pressbox.web.limits import LiveSettings
from pressbox.web.server import running
from pressbox.web.viewer import FrameViewer
from stores import add_game, migrated_store, publish_plays

GAME = "401756846"
T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
SEEDED = 6


def play(n: int, pad: int = 0) -> Event:
    return stores.play(n, T0, pad)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/pressbox.db") as store:
        await add_game(store, GAME, T0)
        assert len(await store.append(GAME, [play(n) for n in range(1, SEEDED + 1)])) == SEEDED
        yield store


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


class Server:
    """A running web app: its WebSocket URL of the game, its hub, and a way to publish."""

    def __init__(self, base: str, hub: Hub, store: Store, bus: MemoryBus) -> None:
        self.base = base.replace("http://", "ws://")
        self.url = f"{self.base}/ws/live/{GAME}"
        self.hub = hub
        self.store = store
        self.bus = bus
        self.next_play = 100

    async def publish(self, count: int = 1, pad: int = 0) -> list[StoredEvent]:
        """Commit `count` new plays, then publish them as one batch."""
        batch = [play(self.next_play + i, pad) for i in range(count)]
        self.next_play += count
        return await publish_plays(self.store, self.bus, GAME, batch)


Serve = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture
def serve(store: Store, bus: MemoryBus) -> Serve:
    @asynccontextmanager
    async def serving(
        heartbeat: float = 60.0, ws: str | None = None, **limits: Any
    ) -> AsyncIterator[Server]:
        """`ws`: uvicorn's protocol instead of Pressbox's (no frames: the ASGI writer path)."""
        app = create_app(
            store, bus, ScaledClock(T0), heartbeat, live_settings=LiveSettings(**limits)
        )
        options = {"ws": ws} if ws else {}
        async with running(app, "127.0.0.1", 0, **options) as base:
            yield Server(base, app.state.hub, store, bus)

    return serving


async def receive(ws: ClientConnection, kind: str, within: float = 5) -> dict[str, Any]:
    """The next message of type `kind`, skipping status, heartbeat and pong messages."""
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            assert message["v"] == 1
            if message["type"] == kind:
                return message
            assert message["type"] in ("status", "heartbeat", "pong"), message


def seqs(message: dict[str, Any]) -> list[int]:
    return [e["seq"] for e in message["events"]]


async def collect_until(ws: ClientConnection, last: int, within: float = 5) -> list[int]:
    """Seqs of every events message until `last` arrived."""
    seen: list[int] = []
    while not seen or seen[-1] < last:
        seen += seqs(await receive(ws, "events", within))
    return seen


async def quiet(ws: ClientConnection, seconds: float = 0.3) -> None:
    """No events message for `seconds`."""
    with pytest.raises(TimeoutError):
        message = await receive(ws, "events", seconds)
        raise AssertionError(f"unexpected events: {message}")


async def refused(url: str, **options: Any) -> tuple[int, str]:
    """The close code and reason of a connection the server refuses."""
    async with connect(url, **options) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def still_serves(server: Server) -> None:
    """A new viewer gets a snapshot, then every event after it up to the next published one
    (a snapshot may lag the head: the events after it follow): the server is unaffected."""
    async with connect(server.url) as ws:
        at = (await receive(ws, "snapshot"))["seq"]
        last = (await server.publish())[-1].seq
        assert await collect_until(ws, last) == list(range(at + 1, last + 1))


async def wait_until(condition: Callable[[], bool], within: float = 5) -> None:
    """Poll `condition` (bounded)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (a hub figure, no event to wait on)
            await asyncio.sleep(0.01)


# --- resume ----------------------------------------------------------------------------------


@pytest.mark.parametrize("history", [1000, 3], ids=["from-the-window", "from-the-log"])
async def test_a_reconnect_with_after_gets_exactly_the_missed_events(
    serve: Serve, history: int
) -> None:
    async with serve(history_events=history) as server, connect(server.url) as anchor:
        assert (await receive(anchor, "snapshot"))["seq"] == SEEDED
        async with connect(server.url) as ws:
            await receive(ws, "snapshot")
            for _ in range(3):
                await server.publish(2)
            applied = await collect_until(ws, SEEDED + 6)
            assert applied == list(range(SEEDED + 1, SEEDED + 7))
        # Disconnected while 7 events are committed and broadcast to the anchor.
        for size in (3, 1, 3):
            await server.publish(size)
        missed = list(range(SEEDED + 7, SEEDED + 14))
        assert await collect_until(anchor, missed[-1]) == list(range(SEEDED + 1, missed[-1] + 1))
        async with connect(f"{server.url}?after={applied[-1]}") as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["type"] == "events" and seqs(first) == missed
            assert isinstance(first["sent"], int) and abs(first["sent"] / 1000 - time.time()) < 60
            await server.publish(2)  # then live, continuing exactly
            assert await collect_until(ws, missed[-1] + 2) == [missed[-1] + 1, missed[-1] + 2]
            await quiet(ws)


async def test_a_resume_one_behind_the_window_gets_a_snapshot(serve: Serve) -> None:
    window = 5
    async with (
        serve(history_events=window, resume_max_events=window) as server,
        connect(server.url) as anchor,
    ):
        await receive(anchor, "snapshot")
        for _ in range(4):
            await server.publish(3)
        head = SEEDED + 12
        await collect_until(anchor, head)
        async with connect(f"{server.url}?after={head - window}") as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["type"] == "events" and seqs(first) == list(
                range(head - window + 1, head + 1)
            )
        async with connect(f"{server.url}?after={head - window - 1}") as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["type"] == "snapshot" and first["seq"] > head - window - 1
            await server.publish()
            assert await collect_until(ws, head + 1) == list(range(first["seq"] + 1, head + 2))
            # The same connection asks again, from inside the window: exactly what follows.
            await ws.send(json.dumps({"type": "resume", "v": 1, "after": head - 2}))
            assert seqs(await receive(ws, "events")) == [head - 1, head, head + 1]
            await quiet(ws)


async def test_every_viewer_gets_the_same_encoded_batch(serve: Serve) -> None:
    async with serve() as server, connect(server.url) as one, connect(server.url) as two:
        await receive(one, "snapshot")
        await receive(two, "snapshot")
        await server.publish(3)
        texts = []
        for ws in (one, two):
            async with asyncio.timeout(5):
                while json.loads(text := str(await ws.recv()))["type"] != "events":
                    pass
            texts.append(text)
        assert texts[0] == texts[1]  # one encoding, `sent` stamp included
        assert server.hub.stats()["channels"] == 1


# --- slow consumers --------------------------------------------------------------------------


@pytest.mark.parametrize("ws", [None, "websockets-sansio"], ids=["frames", "asgi"])
async def test_a_slow_consumer_is_closed_while_a_normal_client_keeps_up(
    serve: Serve, ws: str | None
) -> None:
    limit = 64 * 1024
    async with serve(send_buffer_bytes=limit, ws=ws) as server:
        host, port = server.base.removeprefix("ws://").split(":")
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: set first
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
        async with (
            connect(server.url, sock=raw, max_queue=1) as slow,
            connect(server.url) as normal,
        ):
            await receive(slow, "snapshot")  # then it stops reading
            await receive(normal, "snapshot")
            lags: list[float] = []
            peak = after_overflow = 0
            # ~32 KB per batch: the kernel's loopback buffers take a few MB before the server's
            # socket stops taking more; then the slow client's outbox fills and overflows.
            while after_overflow < 20:
                assert len(lags) < 400, server.hub.stats()
                published = time.monotonic()
                stored = await server.publish(2, pad=16_000)
                assert seqs(await receive(normal, "events")) == [e.seq for e in stored]
                lags.append(time.monotonic() - published)
                stats = server.hub.stats()
                peak = max(peak, stats["buffered_bytes"])
                after_overflow += stats["slow_consumers"]
            assert stats["slow_consumers"] == 1, stats
            assert max(lags) < 2.0, max(lags)  # the normal client never waited on the slow one
            assert stats["peak_outbox_bytes"] <= limit and peak <= 2 * limit, stats
            head = stored[-1].seq
            # The slow client reads again: what was in flight, then the close code 4008.
            received: list[int] = []
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        message = json.loads(await slow.recv())
                        received += seqs(message) if message["type"] == "events" else []
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
            assert "slow consumer" in closed.value.rcvd.reason
            assert received == list(range(SEEDED + 1, SEEDED + 1 + len(received)))
            # Its resume is the coalescing: the rest in order, or a snapshot if too far behind.
            last = received[-1] if received else SEEDED
            async with connect(f"{server.url}?after={last}") as ws:
                assert await collect_until(ws, head) == list(range(last + 1, head + 1))
            await wait_until(lambda: server.hub.stats()["buffered_bytes"] == 0)


# --- heartbeats and dead peers ---------------------------------------------------------------


async def test_a_silent_client_is_closed_4408_and_a_pinging_one_stays(serve: Serve) -> None:
    async with (
        serve(heartbeat=0.1, dead_peer_seconds=0.6) as server,
        connect(server.url) as silent,
        connect(server.url) as pinging,
    ):
        await receive(silent, "snapshot")
        await receive(pinging, "snapshot")
        started = time.monotonic()

        async def ping_for(seconds: float) -> set[str]:
            kinds: set[str] = set()
            while time.monotonic() - started < seconds:
                await pinging.send(json.dumps({"type": "ping", "v": 1}))
                kinds.add(json.loads(await asyncio.wait_for(pinging.recv(), 5))["type"])
                await asyncio.sleep(0.05)
            return kinds

        pinger = asyncio.create_task(ping_for(2.0))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await silent.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
        assert "no message from the client in 0.6 s" in closed.value.rcvd.reason
        assert time.monotonic() - started < 1.6
        # The pinging client outlives it, hearing pongs, heartbeats and statuses.
        assert {"pong", "heartbeat", "status"} <= await pinger
        await pinging.send(json.dumps({"type": "ping", "v": 1}))
        await server.publish()
        assert seqs(await receive(pinging, "events")) == [SEEDED + 1]


# --- limits ----------------------------------------------------------------------------------


async def test_the_per_ip_cap_refuses_4429(serve: Serve) -> None:
    async with serve(max_connections_per_ip=2) as server:
        async with connect(server.url) as one, connect(server.url) as two:
            await receive(one, "snapshot")
            await receive(two, "snapshot")
            code, reason = await refused(server.url)
            assert code == 4429 and "too many live connections from your address" in reason
            await server.publish()
            for ws in (one, two):
                assert seqs(await receive(ws, "events")) == [SEEDED + 1]
        await wait_until(lambda: server.hub.stats()["connections"] == 0)
        await still_serves(server)


async def test_the_global_cap_refuses_1013(serve: Serve) -> None:
    async with serve(max_connections=1) as server:
        async with connect(server.url) as one:
            await receive(one, "snapshot")
            code, reason = await refused(server.url)
            assert code == 1013 and "server full" in reason
        await wait_until(lambda: server.hub.stats()["connections"] == 0)
        await still_serves(server)


async def test_a_connection_storm_is_refused_1013_past_the_admission_burst(serve: Serve) -> None:
    async with (
        serve(admission_rate=0.001, admission_burst=3) as server,
        connect(server.url) as one,
        connect(server.url) as two,
    ):
        await receive(one, "snapshot")
        await receive(two, "snapshot")
        async with connect(server.url) as three:
            await receive(three, "snapshot")
        code, reason = await refused(server.url)
        assert code == 1013 and "too many new connections" in reason
        assert server.hub.stats()["refused"] == {1013: 1}
        await server.publish()  # the admitted keep receiving
        for ws in (one, two):
            assert seqs(await receive(ws, "events")) == [SEEDED + 1]


async def test_an_oversized_message_is_closed_1009_and_others_unaffected(serve: Serve) -> None:
    async with serve(max_message_bytes=256) as server, connect(server.url) as other:
        await receive(other, "snapshot")
        async with connect(server.url) as ws:
            await receive(ws, "snapshot")
            await ws.send(json.dumps({"type": "ping", "v": 1, "pad": "x" * 200}))  # fits
            await receive(ws, "pong")
            await ws.send(json.dumps({"type": "ping", "v": 1, "pad": "x" * 300}))
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws, "events")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await server.publish()
        assert seqs(await receive(other, "events")) == [SEEDED + 1]
        await still_serves(server)


async def test_origins_same_origin_by_default_and_the_allowlist(serve: Serve) -> None:
    async with serve(allowed_origins=("https://pressbox.example",)) as server:
        code, reason = await refused(server.url, origin="http://evil.example")
        assert code == 4403 and "origin not allowed" in reason
        own = server.base.replace("ws://", "http://")
        for origin in (own, "https://pressbox.example", None):  # None: not a browser
            async with connect(server.url, origin=origin) as ws:
                await receive(ws, "snapshot")
        await still_serves(server)


async def test_an_unknown_game_is_refused_4404_and_the_server_unaffected(serve: Serve) -> None:
    async with serve() as server:
        code, reason = await refused(f"{server.base}/ws/live/nope")
        assert code == 4404 and "unknown game" in reason
        await still_serves(server)
        # The last viewer of a game stops its channel (and its bus subscription).
        await wait_until(lambda: server.hub.stats()["channels"] == 0)
        assert server.bus.subscriber_count(GAME) == 0


# --- the frames path -------------------------------------------------------------------------


def frame_viewers(server: Server) -> list[FrameViewer]:
    """The viewers the hub writes frames to."""
    channel = server.hub._channels.get(GAME)
    viewers = channel.viewers if channel else set()
    return [v for v in viewers if isinstance(v, FrameViewer)]


async def test_uvicorn_viewers_get_pre_built_frames_and_others_the_asgi_path(
    serve: Serve,
) -> None:
    async with serve() as server, connect(server.url) as a, connect(server.url) as b:
        for ws in (a, b):
            await receive(ws, "snapshot")
        assert server.hub.stats()["paths"] == {"frames": 2}
        last = (await server.publish(3))[-1].seq
        await server.publish()
        for ws in (a, b):
            assert await collect_until(ws, last + 1) == list(range(SEEDED + 1, last + 2))
        # A resume on the same connection: exactly the missed events, then live again.
        await a.send(json.dumps({"type": "resume", "v": 1, "after": SEEDED + 1}))
        assert await collect_until(a, last + 1) == list(range(SEEDED + 2, last + 2))
        stored = await server.publish()
        assert seqs(await receive(a, "events")) == [stored[0].seq]
    async with serve(ws="websockets-sansio") as server, connect(server.url) as ws:
        await receive(ws, "snapshot")
        assert server.hub.stats()["paths"] == {"asgi": 1}


async def test_a_non_reading_client_is_closed_4008_and_its_transport_aborted(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(viewer_module, "ABORT_AFTER", 0.5)
    limit = 32 * 1024
    async with serve(send_buffer_bytes=limit) as server:
        host, port = server.base.removeprefix("ws://").split(":")
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
        async with connect(server.url, sock=raw, max_queue=1) as slow:
            await receive(slow, "snapshot")  # then it never reads again
            (stuck,) = frame_viewers(server)
            sink = stuck.sink
            assert isinstance(sink, FramesProtocol)
            async with connect(server.url) as normal:
                await receive(normal, "snapshot")
                lags: list[float] = []
                while not stuck.ended:
                    assert len(lags) < 400, server.hub.stats()
                    published = time.monotonic()
                    stored = await server.publish(2, pad=16_000)
                    assert seqs(await receive(normal, "events")) == [e.seq for e in stored]
                    lags.append(time.monotonic() - published)
                assert stuck.ending is not None and stuck.ending.code == 4008
                assert sink.close_sent and not sink.send_frame(b"\x81\x00")  # nothing more
                # Never more than the limit plus one message held for it.
                assert sink.buffered() <= limit + 40_000, sink.buffered()
                assert server.hub.stats()["slow_consumers"] == 1
                assert server.hub.stats()["paths"] == {"frames": 1}
                # The client never reads: its transport is aborted, the bytes dropped.
                await wait_until(lambda: sink.disconnected, within=3)
                assert sink.transport.is_closing()
                assert sink.transport.get_write_buffer_size() == 0
                # The normal client kept receiving on time throughout, and still does.
                assert max(lags) < 2.0, max(lags)
                stored = await server.publish()
                assert seqs(await receive(normal, "events")) == [stored[0].seq]
                assert server.hub.stats()["buffered_bytes"] == 0


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_pre_built_frame_is_what_websockets_would_send(size: int) -> None:
    text = "x" * size
    assert text_frame(text) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
