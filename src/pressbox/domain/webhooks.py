"""Webhook subscriptions, pure: what a subscription wants, the body of a delivery, its signature.

A delivery is one POST of a batch of one game's events, in seq order, with the range of the log it
covers (`after` < seq <= `through`), so a receiver can tell that nothing between two deliveries is
missing even when the subscription filters event types. It is signed as Stripe and GitHub sign
theirs: `Pressbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
subscription's secret (docs/webhooks.md shows the check in Python).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.sports import profile_for

VERSION = 1
SIGNATURE_HEADER = "Pressbox-Signature"
#: A receiver should refuse a signature older than this (replays of a captured delivery).
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_URL = 2000


class WebhookStatus(StrEnum):
    """`active`: delivering (or retrying for less than the failing time); `failing`: every
    attempt has failed for longer than that. A failing subscription keeps being retried at the
    backoff cap and is active again after its next success."""

    ACTIVE = "active"
    FAILING = "failing"


def parse_event_types(names: Iterable[str]) -> frozenset[EventType] | None:
    """The event types of `names` (`play_added`, `score`, ...); None (every type) for none.
    Raises ValueError naming the unknown ones and the known ones."""
    wanted = {name.strip() for name in names if name.strip()}
    known = {str(kind) for kind in EventType}
    if unknown := sorted(wanted - known):
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {sorted(known)}")
    return frozenset(EventType(name) for name in wanted) or None


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host; raises ValueError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    if len(url) > MAX_URL:
        raise ValueError(f"URL longer than {MAX_URL} characters")
    return url.strip()


@dataclass(frozen=True)
class Delivery:
    """One batch for one game: the events of the log after `after` up to `through` that the
    subscription wants (possibly none: the cursor then moves without a POST)."""

    subscription: int
    game_id: str
    league: str
    after: int
    through: int
    events: tuple[StoredEvent, ...]

    def body(self) -> bytes:
        """The POST body (docs/webhooks.md): compact JSON, the events as the live protocol's."""
        return json.dumps(
            {
                "v": VERSION,
                "subscription": self.subscription,
                "game_id": self.game_id,
                "league": self.league,
                "after": self.after,
                "through": self.through,
                "events": [event.to_json() for event in self.events],
            },
            separators=(",", ":"),
        ).encode()


def batch(
    subscription: int,
    game_id: str,
    league: str,
    after: int,
    log: Sequence[StoredEvent],
    wanted: frozenset[EventType] | None,
) -> Delivery:
    """The delivery of `log` (the game's events after `after`, in seq order, possibly cut short)
    with only the `wanted` types; it covers the log up to its last event."""
    through = log[-1].seq if log else after
    chosen = tuple(e for e in log if wanted is None or e.type in wanted)
    return Delivery(subscription, game_id, league, after, through, chosen)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Pressbox-Signature` header value of `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def is_failing(first_failure: datetime | None, now: datetime, after: timedelta) -> bool:
    """Whether deliveries failing without a success since `first_failure` have failed long
    enough (`after`) for the subscription to show as failing."""
    return first_failure is not None and now - first_failure >= after


#: A shorter signing secret is guessable: refused.
MIN_SECRET = 16
MAX_SECRET = 200


@dataclass(frozen=True)
class Subscription:
    """What a new webhook asks for, checked: where, which event types (None: all), which league
    (None: all), its secret."""

    url: str
    events: frozenset[EventType] | None
    league: str | None
    secret: str

    @classmethod
    def parse(
        cls, url: str, events: Iterable[str], league: str | None, secret: str | None
    ) -> Subscription:
        """A subscription from a user's input, with a random secret when none is given; raises
        ValueError saying what is wrong."""
        if league is not None:
            profile_for(league)  # ValueError naming the known leagues
        if secret is None:
            secret = new_secret()
        elif not MIN_SECRET <= len(secret) <= MAX_SECRET:
            raise ValueError(f"a secret must be {MIN_SECRET} to {MAX_SECRET} characters")
        return cls(check_url(url), parse_event_types(events), league, secret)


def new_secret() -> str:
    """A random signing secret (`whsec_` and 43 URL-safe characters, 256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)
