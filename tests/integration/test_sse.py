"""The Server-Sent Events feed on a real loopback server: the same channel as the WebSocket's,
`id:` = seq, `Last-Event-ID` resumes exactly, heartbeats as comments, the hub's limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import stores
from pressbox.bus import MemoryBus
from pressbox.clock import ScaledClock
from pressbox.domain.events import Event, StoredEvent
from pressbox.store import Store
from pressbox.web import create_app
from pressbox.web.limits import LiveSettings
from pressbox.web.server import running
from stores import add_game, migrated_store, publish_plays

GAME = "401756846"
T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
SEEDED = 6


def play(n: int, pad: int = 0) -> Event:
    return stores.play(n, T0, pad)


@dataclass
class SseEvent:
    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comment: str | None = None

    def json(self) -> Any:
        return json.loads("\n".join(self.data))


async def sse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    """The stream's events (and comments, as events of their own) as the SSE format says."""
    current = SseEvent()
    async for line in response.aiter_lines():
        if line == "":
            if current.data or current.id is not None:
                yield current
            current = SseEvent()
        elif line.startswith(":"):
            yield SseEvent(event="", comment=line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                current.data.append(value)
            elif name == "id":
                current.id = value
            elif name == "event":
                current.event = value


async def next_of(events: AsyncIterator[SseEvent], kind: str, within: float = 5) -> SseEvent:
    async with asyncio.timeout(within):
        async for event in events:
            if event.event == kind:
                return event
    raise AssertionError(f"the stream ended before a {kind!r} event")


@dataclass
class Server:
    base: str
    store: Store
    bus: MemoryBus
    next_play: int = 100

    @property
    def url(self) -> str:
        return f"{self.base}/sse/live/{GAME}"

    async def publish(self, count: int = 1, pad: int = 0) -> list[StoredEvent]:
        batch = [play(self.next_play + i, pad) for i in range(count)]
        self.next_play += count
        return await publish_plays(self.store, self.bus, GAME, batch)


Serve = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path}/pressbox.db") as store:
        await add_game(store, GAME, T0)
        assert len(await store.append(GAME, [play(n) for n in range(1, SEEDED + 1)])) == SEEDED
        yield store


@pytest.fixture
def serve(store: Store) -> Serve:
    @asynccontextmanager
    async def serving(heartbeat: float = 60.0, **limits: Any) -> AsyncIterator[Server]:
        bus = MemoryBus()
        app = create_app(
            store, bus, ScaledClock(T0), heartbeat, live_settings=LiveSettings(**limits)
        )
        async with running(app, "127.0.0.1", 0) as base:
            yield Server(base, store, bus)

    return serving


async def test_a_new_client_gets_the_snapshot_then_each_event_with_its_seq_as_id(
    serve: Serve,
) -> None:
    async with (
        serve() as server,
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", server.url) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        events = sse_events(response)
        snapshot = await next_of(events, "snapshot")
        assert snapshot.id == str(SEEDED) and snapshot.json()["seq"] == SEEDED
        assert [p["id"] for p in snapshot.json()["snapshot"]["plays"]][-1] == f"p{SEEDED}"
        status = await next_of(events, "status")
        assert status.json()["type"] == "status"
        published = await server.publish(3)
        got = [await next_of(events, "play_added") for _ in published]
        assert [e.id for e in got] == [str(e.seq) for e in published]
        assert [e.json()["seq"] for e in got] == [e.seq for e in published]
        assert [e.json()["data"]["id"] for e in got] == [e.data["id"] for e in published]


async def test_a_client_resuming_with_last_event_id_gets_exactly_the_missed_events(
    serve: Serve,
) -> None:
    async with serve() as server, httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", server.url) as response:
            events = sse_events(response)
            await next_of(events, "snapshot")
            first = await server.publish(2)
            seen = [await next_of(events, "play_added") for _ in first]
        last_id = seen[-1].id
        assert last_id == str(first[-1].seq)
        # Disconnected: what happens meanwhile is missed, then fetched on the resume.
        missed = await server.publish(4)
        headers = {"Last-Event-ID": last_id}
        async with client.stream("GET", server.url, headers=headers) as response:
            events = sse_events(response)
            got = []
            async with asyncio.timeout(5):
                async for event in events:
                    assert event.event != "snapshot", "a resume within the window is exact"
                    if event.event == "play_added":
                        got.append(event)
                    if event.event == "status":
                        break
            assert [int(e.id or 0) for e in got] == [e.seq for e in missed]
            later = await server.publish(1)
            assert (await next_of(events, "play_added")).id == str(later[0].seq)
        # `?after=` is the same resume for a client that cannot set the header.
        async with client.stream("GET", f"{server.url}?after={missed[1].seq}") as response:
            events = sse_events(response)
            resumed = await next_of(events, "play_added")
            assert resumed.id == str(missed[2].seq)


async def test_heartbeats_are_comments(serve: Serve) -> None:
    async with (
        serve(heartbeat=0.2) as server,
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", server.url) as response,
    ):
        beat = await next_of(sse_events(response), "", within=3)
        assert beat.comment is not None and beat.comment.startswith("heartbeat ")


async def test_bad_requests_and_the_hubs_limits_answer_plain_http(serve: Serve) -> None:
    async with serve(max_connections_per_ip=1) as server, httpx.AsyncClient(timeout=10) as client:
        bad = await client.get(server.url, headers={"Last-Event-ID": "seven"})
        assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]
        assert (await client.get(f"{server.url}?after=-1")).status_code == 422
        unknown = await client.get(f"{server.base}/sse/live/nope")
        assert unknown.status_code == 404 and "unknown game" in unknown.json()["detail"]
        async with client.stream("GET", server.url) as response:
            await next_of(sse_events(response), "snapshot")
            second = await client.get(server.url)
            assert second.status_code == 429
        # The first stream's end releases its place as soon as the server sees the client go
        # (its disconnect, not the next heartbeat's write, 60 s away).
        async with asyncio.timeout(2):
            while True:
                async with client.stream("GET", server.url) as response:
                    if response.status_code == 200:
                        break
                await asyncio.sleep(0.02)


async def test_a_consumer_that_stops_reading_gets_an_end_event_and_the_stream_ends(
    serve: Serve,
) -> None:
    limit = 64 * 1024
    async with (
        serve(send_buffer_bytes=limit) as server,
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", server.url) as response,
    ):
        events = sse_events(response)
        await next_of(events, "snapshot")
        # Not read meanwhile: ~24 MB, past loopback's socket buffers (MBs) and the send buffer.
        for _ in range(120):
            await server.publish(10, pad=20_000)
        seqs, end = [], None
        async with asyncio.timeout(10):
            async for event in events:
                if event.event == "play_added":
                    seqs.append(int(event.id or 0))
                elif event.event == "end":
                    end = event.json()
        assert end is not None and end["code"] == 4008 and "resume" in end["reason"]
        # What came before the end is consecutive: a resume from its last id loses nothing.
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) < 1200
