"""The pure part of webhooks: signatures (checked with the docs' own Python check), what a
subscription accepts, what a delivery covers, and when a subscription is failing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.webhooks import (
    Subscription,
    batch,
    check_url,
    is_failing,
    parse_event_types,
    sign,
)
from webhook_receiver import documented_verify

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
SECRET = "whsec_0123456789abcdef"


def event(seq: int, kind: EventType = EventType.PLAY_ADDED) -> StoredEvent:
    return StoredEvent(seq, kind, f"k{seq}", T0, {"id": str(seq)})


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"v":1}'
    expected = hmac.new(SECRET.encode(), b"1733580000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1733580000, body) == f"t=1733580000,v1={expected}"


def test_the_documented_check_accepts_ours_and_refuses_tampering_and_old_ones() -> None:
    verify = documented_verify()
    body = b'{"v":1,"events":[]}'
    now = int(time.time())
    assert verify(SECRET, sign(SECRET, now, body), body)
    assert not verify(SECRET, sign(SECRET, now, body), body + b" ")
    assert not verify("whsec_another-secret-000", sign(SECRET, now, body), body)
    assert not verify(SECRET, sign(SECRET, now - 301, body), body)  # older than 5 minutes
    assert not verify(SECRET, "garbage", body)
    assert not verify(SECRET, "t=x,v1=00", body)


def test_a_delivery_covers_the_log_read_and_carries_only_wanted_types() -> None:
    log = [event(5), event(6, EventType.SCORE), event(7), event(8, EventType.SCORE)]
    plays = batch(3, "g1", "nba", 4, log, frozenset({EventType.PLAY_ADDED}))
    assert (plays.after, plays.through) == (4, 8)
    assert [e.seq for e in plays.events] == [5, 7]
    body = json.loads(plays.body())
    assert body == {
        "v": 1,
        "subscription": 3,
        "game_id": "g1",
        "league": "nba",
        "after": 4,
        "through": 8,
        "events": [e.to_json() for e in (log[0], log[2])],
    }
    assert [e.seq for e in batch(3, "g1", "nba", 4, log, None).events] == [5, 6, 7, 8]
    nothing = batch(3, "g1", "nba", 4, [event(6, EventType.SCORE)], frozenset({EventType.DRIVE}))
    assert nothing.events == () and nothing.through == 6  # the cursor moves past it


def test_a_subscription_is_checked_and_gets_a_random_secret() -> None:
    one = Subscription.parse(" https://h.example/x ", ["play_added", " score", ""], "nba", None)
    assert one.url == "https://h.example/x" and one.league == "nba"
    assert one.events == {EventType.PLAY_ADDED, EventType.SCORE}
    assert one.secret.startswith("whsec_") and len(one.secret) == 49
    assert Subscription.parse("http://h/", [], None, None).secret != one.secret
    assert parse_event_types(["", " "]) is None  # none named: every type
    for url in ("ftp://h/x", "h.example/x", "http:///x", "http://h/" + "x" * 2000):
        with pytest.raises(ValueError):
            check_url(url)
    with pytest.raises(ValueError, match=r"unknown event type\(s\) goal, touchdown"):
        Subscription.parse("http://h/", ["touchdown", "goal", "score"], None, None)
    with pytest.raises(ValueError, match="unsupported league 'mlb'"):
        Subscription.parse("http://h/", [], "mlb", None)
    with pytest.raises(ValueError, match="16 to 200"):
        Subscription.parse("http://h/", [], None, "short")


def test_failing_is_judged_by_time_since_the_first_failure() -> None:
    ten = timedelta(minutes=10)
    assert not is_failing(None, T0, ten)
    assert not is_failing(T0, T0 + timedelta(minutes=9, seconds=59), ten)
    assert is_failing(T0, T0 + ten, ten)
