"""The live WebSocket's pure rules: admission bucket, connection caps, Origin, send buffers."""

from __future__ import annotations

import asyncio
import json

import pytest

from pressbox.web.limits import (
    Admission,
    CloseCode,
    ConnectionCounter,
    LiveSettings,
    TokenBucket,
    origin_allowed,
)
from pressbox.web.messages import chunks, events_message
from pressbox.web.outbox import BufferGauge, Outbox

# --- admission bucket ------------------------------------------------------------------------


def test_the_bucket_admits_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(100.4)  # 0.8 of a token
    assert bucket.take(100.5)  # one token after half a second at 2/s
    assert not bucket.take(100.5)


def test_the_bucket_never_holds_more_than_its_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=2, now=0.0)
    assert bucket.take(0.0) and bucket.take(0.0)
    assert sum(bucket.take(3600.0) for _ in range(5)) == 2  # an hour idle still gives 2
    assert not bucket.take(3599.0)  # a clock that steps back adds nothing


# --- connection caps -------------------------------------------------------------------------


def test_the_caps_count_in_all_and_per_address() -> None:
    counter = ConnectionCounter(total=3, per_ip=2)
    assert counter.acquire("10.0.0.1") is None
    assert counter.acquire("10.0.0.1") is None
    refusal = counter.acquire("10.0.0.1")
    assert refusal is not None and refusal.code is CloseCode.TOO_MANY_FROM_IP
    assert counter.acquire("10.0.0.2") is None
    refusal = counter.acquire("10.0.0.3")
    assert refusal is not None and refusal.code is CloseCode.TRY_LATER
    counter.release("10.0.0.1")
    assert (counter.total, counter.from_ip("10.0.0.1")) == (2, 1)
    assert counter.acquire("10.0.0.3") is None
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        counter.release(ip)
    assert counter.total == 0 and counter.from_ip("10.0.0.1") == 0


# --- Origin ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "pressbox.example", (), True),  # not a browser
        ("https://pressbox.example", "pressbox.example", (), True),  # same origin
        ("http://127.0.0.1:8000", "127.0.0.1:8000", (), True),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", (), False),  # another port
        ("https://evil.example", "pressbox.example", (), False),
        ("null", "pressbox.example", (), False),  # a sandboxed page or a file
        ("https://evil.example", None, (), False),
        ("https://app.example", "api.example", ("https://app.example",), True),
        ("https://APP.example/", "api.example", ("https://app.example",), True),
        ("http://app.example", "api.example", ("https://app.example",), False),
        ("https://any.example", "api.example", ("*",), True),
    ],
)
def test_origins(origin: str | None, host: str | None, allowed: tuple[str, ...], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok


def test_admission_checks_origin_then_rate_then_caps_and_counts_refusals() -> None:
    settings = LiveSettings(admission_rate=1.0, admission_burst=2, max_connections_per_ip=1)
    gate = Admission(settings, now=0.0)
    refusal = gate.admit("1.1.1.1", "https://evil.example", "pressbox.example", 0.0)
    assert refusal is not None and refusal.code is CloseCode.ORIGIN
    assert gate.bucket.tokens == 2  # a refused origin spends no token
    assert gate.admit("1.1.1.1", None, "pressbox.example", 0.0) is None
    refusal = gate.admit("1.1.1.1", None, "pressbox.example", 0.0)
    assert refusal is not None and refusal.code is CloseCode.TOO_MANY_FROM_IP
    refusal = gate.admit("2.2.2.2", None, "pressbox.example", 0.0)
    assert refusal is not None and refusal.code is CloseCode.TRY_LATER
    assert gate.admit("2.2.2.2", None, "pressbox.example", 1.0) is None
    assert dict(gate.refused) == {
        CloseCode.ORIGIN: 1,
        CloseCode.TOO_MANY_FROM_IP: 1,
        CloseCode.TRY_LATER: 1,
    }
    gate.release("1.1.1.1")
    gate.release("2.2.2.2")
    assert gate.connections.total == 0


# --- send buffers ----------------------------------------------------------------------------


def test_the_outbox_counts_bytes_and_overflows_past_its_limit() -> None:
    gauge = BufferGauge()
    box = Outbox(100, gauge)
    assert box.offer("a" * 60) and box.offer("b" * 40)
    assert (box.buffered, box.backlog, gauge.buffered, gauge.peak) == (100, 100, 100, 100)
    assert box.take_nowait() == "a" * 60
    assert (box.buffered, gauge.buffered) == (40, 40)
    assert not box.offer("c" * 61)  # 40 + 61 > 100: a slow consumer
    assert box.overflowed and box.buffered == 0 and gauge.buffered == 0
    assert gauge.overflows == 1 and gauge.peak == 100
    assert not box.offer("d")  # stays refused
    assert box.take_nowait() is None


def test_a_message_larger_than_the_limit_fits_an_empty_outbox_only() -> None:
    box = Outbox(100)
    assert box.offer("x" * 500)
    assert box.take_nowait() == "x" * 500
    assert box.offer("y" * 500)
    assert not box.offer("z")


def test_catch_up_messages_are_queued_on_top_of_the_live_limit() -> None:
    gauge = BufferGauge()
    box = Outbox(100, gauge)
    assert box.offer("s" * 1000, catch_up=True)  # a snapshot
    assert (box.buffered, box.backlog) == (1000, 0)
    assert box.offer("e" * 90) and box.offer("f" * 10)  # live batches right behind it
    assert (box.buffered, box.backlog, gauge.peak) == (1100, 100, 100)
    assert not box.offer("g")
    assert gauge.buffered == 0


async def test_the_writer_side_waits_for_messages_and_for_the_drain() -> None:
    box = Outbox(100)
    taken = asyncio.create_task(box.take())
    await asyncio.sleep(0)
    assert not taken.done()
    box.offer("hello")
    assert await asyncio.wait_for(taken, 1) == "hello"
    await asyncio.wait_for(box.drained(), 1)  # empty: at once
    box.offer("again")
    drained = asyncio.create_task(box.drained())
    await asyncio.sleep(0)
    assert not drained.done()
    assert box.take_nowait() == "again"
    await asyncio.wait_for(drained, 1)


# --- messages --------------------------------------------------------------------------------


def test_an_events_message_joins_encoded_events_into_valid_json() -> None:
    encoded = ['{"seq":1,"type":"score"}', '{"seq":2,"type":"score"}']
    message = events_message(encoded, 1724429292123)
    assert json.loads(message) == {
        "type": "events",
        "v": 1,
        "sent": 1724429292123,
        "events": [{"seq": 1, "type": "score"}, {"seq": 2, "type": "score"}],
    }
    assert json.loads(events_message([], 0))["events"] == []


def test_catch_up_chunks_stay_under_their_size_with_one_event_at_least() -> None:
    texts = ["a" * 40, "b" * 40, "c" * 40, "d" * 200, "e" * 10]
    assert [len(c) for c in chunks(texts, 100)] == [2, 1, 1, 1]
    assert [t for c in chunks(texts, 100) for t in c] == texts
    assert list(chunks([], 100)) == []
