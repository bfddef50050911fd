"""Buses without a server: the factory, the bus form of a batch, the in-process bus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pressbox.bus import MemoryBus, open_bus
from pressbox.bus.redis import RedisBus, decode_batch, encode_batch
from pressbox.config import load_settings
from pressbox.domain.events import EventType, StoredEvent
from pressbox.errors import ConfigError

AT = datetime(2025, 8, 23, 16, 8, 12, 345678, tzinfo=UTC)
EVENT = StoredEvent(7, EventType.PLAY_CORRECTED, "play:p7:x", AT, {"id": "p7", "text": "é"})


def test_a_batch_survives_the_bus_form_exactly() -> None:
    other = StoredEvent(8, EventType.SCORE, "score:1", AT, {"home": 7, "away": 3})
    assert decode_batch(encode_batch([EVENT, other]).encode()) == (EVENT, other)


def test_from_json_reads_the_protocol_form_without_a_key() -> None:
    event = StoredEvent.from_json(EVENT.to_json())
    assert (event.seq, event.type, event.key, event.data) == (7, EVENT.type, "", EVENT.data)
    assert event.at == AT.replace(microsecond=0)  # the protocol form has seconds


@pytest.mark.parametrize(
    "payload",
    [
        "{}",
        "[1]",
        '[{"seq": "1", "type": "score", "at": "2025-08-23T16:00:00Z", "data": {}}]',
        '[{"seq": true, "type": "score", "at": "2025-08-23T16:00:00Z", "data": {}}]',
        '[{"seq": 1, "type": "nope", "at": "2025-08-23T16:00:00Z", "data": {}}]',
        '[{"seq": 1, "type": "score", "at": "yesterday", "data": {}}]',
        '[{"seq": 1, "type": "score", "at": 5, "data": {}}]',
        '[{"seq": 1, "type": "score", "at": "2025-08-23T16:00:00Z", "data": []}]',
        '[{"seq": 1, "type": "score", "data": {}}]',
        "not json",
    ],
)
def test_what_is_not_a_batch_is_refused_with_value_error(payload: str) -> None:
    with pytest.raises(ValueError):
        decode_batch(payload)


async def test_open_bus_picks_the_bus_from_the_url() -> None:
    assert isinstance(open_bus("memory://"), MemoryBus)
    for url in ("redis://127.0.0.1:6390/0", "rediss://cache.example:6380/1"):
        bus = open_bus(url)
        assert isinstance(bus, RedisBus)
        await bus.aclose()  # nothing was connected; closing is still clean
    with pytest.raises(ConfigError, match="unknown bus URL 'kafka://x'"):
        open_bus("kafka://x")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://h:6380/2", "memory://"])
def test_bus_url_accepts_memory_and_redis(url: str) -> None:
    assert load_settings(bus_url=url).bus_url == url


@pytest.mark.parametrize("url", ["", "memory", "memory://x", "redis://", "http://h:6379", "h:6379"])
def test_bus_url_refuses_anything_else_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigError, match="PRESSBOX_BUS_URL: .*use memory:// .* redis://host"):
        load_settings(bus_url=url)


async def test_the_memory_bus_fans_out_is_always_ready_and_closes_as_a_no_op() -> None:
    bus = MemoryBus(capacity=1)
    async with bus.subscribe("g") as a, bus.subscribe("g") as b, bus.subscribe("h") as c:
        assert bus.subscriber_count("g") == 2
        await bus.publish("g", [EVENT])
        await bus.publish("g", [EVENT])  # the queues hold one batch: the second is dropped
        assert (a.queue.qsize(), b.queue.qsize(), c.queue.qsize()) == (1, 1, 0)
        assert (a.dropped, b.dropped) == (1, 1)
        assert list(await a.get()) == [EVENT]
    assert bus.subscriber_count("g") == 0
    assert await bus.ping()
    await bus.aclose()
