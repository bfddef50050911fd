"""What the live WebSocket allows: close codes, limits, and the admission of new connections.

Pure code (no I/O, time passed in), so the rules are tested without sockets. The close codes are
the ones of docs/protocol.md; a browser reads the code and the reason after the handshake, so every
refusal happens after `accept`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit


class CloseCode(IntEnum):
    """Why the server closed a live connection (docs/protocol.md, "Close codes")."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down: reconnect (with backoff) and resume
    POLICY = 1008  # a malformed request, e.g. a bad `after`
    TOO_BIG = 1009  # a client message over the size limit
    INTERNAL = 1011  # the game's live channel failed: reconnect and resume
    TRY_LATER = 1013  # the server is full, or too many new connections per second: back off
    SLOW_CONSUMER = 4008  # the client read too slowly; its send buffer overflowed: resume
    ORIGIN = 4403  # the page's Origin is not allowed: do not retry
    UNKNOWN_GAME = 4404  # no such game: do not retry
    DEAD_PEER = 4408  # no message from the client within the dead-peer time: reconnect
    TOO_MANY_FROM_IP = 4429  # too many connections from this address: back off


@dataclass(frozen=True)
class Refusal:
    """A close code and its reason (at most 123 bytes on the wire)."""

    code: CloseCode
    reason: str


@dataclass(frozen=True)
class LiveSettings:
    """Limits of the live WebSocket; each is a `PRESSBOX_WS_*` setting (see README)."""

    dead_peer_seconds: float = 60.0
    send_buffer_bytes: int = 256 * 1024
    history_events: int = 1000
    resume_max_events: int = 5000
    max_connections: int = 20_000
    max_connections_per_ip: int = 100
    admission_rate: float = 2000.0
    admission_burst: int = 1000
    max_message_bytes: int = 4096
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> LiveSettings:
        """The limits of a `pressbox.config.Settings`."""
        return cls(
            dead_peer_seconds=settings.ws_dead_peer_seconds,
            send_buffer_bytes=settings.ws_send_buffer_bytes,
            history_events=settings.ws_history_events,
            resume_max_events=settings.ws_resume_max_events,
            max_connections=settings.ws_max_connections,
            max_connections_per_ip=settings.ws_max_connections_per_ip,
            admission_rate=settings.ws_admission_rate,
            admission_burst=settings.ws_admission_burst,
            max_message_bytes=settings.ws_max_message_bytes,
            allowed_origins=tuple(settings.ws_allowed_origins),
        )


class TokenBucket:
    """`rate` admissions per second on average, up to `burst` at once (times in seconds)."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self._last = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        elapsed = max(0.0, now - self._last)
        self._last = now
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class ConnectionCounter:
    """Open connections in all and per client address, against their caps."""

    def __init__(self, total: int, per_ip: int) -> None:
        self.cap_total = total
        self.cap_per_ip = per_ip
        self.total = 0
        self._per_ip: Counter[str] = Counter()

    def acquire(self, ip: str) -> Refusal | None:
        """Count one more connection from `ip`, or say why not."""
        if self.total >= self.cap_total:
            return Refusal(CloseCode.TRY_LATER, "server full: too many live connections")
        if self._per_ip[ip] >= self.cap_per_ip:
            return Refusal(
                CloseCode.TOO_MANY_FROM_IP, "too many live connections from your address"
            )
        self.total += 1
        self._per_ip[ip] += 1
        return None

    def release(self, ip: str) -> None:
        """Forget one connection of `ip` (one that `acquire` counted)."""
        self.total -= 1
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]

    def from_ip(self, ip: str) -> int:
        """Open connections from `ip`."""
        return self._per_ip[ip]


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str]) -> bool:
    """Whether a browser page at `origin` may connect to the server reached as `host`.

    No Origin header: not a browser (browsers always send one), allowed. The page's own origin
    (its host and port equal the Host header) is always allowed; `allowed` adds exact origins
    (`https://pressbox.example`), and `*` allows any.
    """
    if origin is None:
        return True
    if "*" in allowed:
        return True
    normalized = origin.strip().rstrip("/").lower()
    if normalized in {a.strip().rstrip("/").lower() for a in allowed}:
        return True
    parts = urlsplit(normalized)
    return parts.scheme in ("http", "https") and parts.netloc == (host or "").lower() != ""


class Admission:
    """The gate of new live connections: Origin, the admission rate, the connection caps.

    `admit` counts an admitted connection; its owner calls `release` when it ends.
    """

    def __init__(self, settings: LiveSettings, now: float) -> None:
        self.settings = settings
        self.bucket = TokenBucket(settings.admission_rate, settings.admission_burst, now)
        self.connections = ConnectionCounter(
            settings.max_connections, settings.max_connections_per_ip
        )
        self.refused: Counter[CloseCode] = Counter()

    def admit(self, ip: str, origin: str | None, host: str | None, now: float) -> Refusal | None:
        """None (and the connection counted) or why it is refused."""
        refusal = self._check(ip, origin, host, now)
        if refusal is not None:
            self.refused[refusal.code] += 1
        return refusal

    def _check(self, ip: str, origin: str | None, host: str | None, now: float) -> Refusal | None:
        if not origin_allowed(origin, host, self.settings.allowed_origins):
            return Refusal(CloseCode.ORIGIN, f"origin not allowed: {origin}"[:120])
        if not self.bucket.take(now):
            return Refusal(CloseCode.TRY_LATER, "too many new connections: retry later")
        return self.connections.acquire(ip)

    def release(self, ip: str) -> None:
        """One admitted connection ended."""
        self.connections.release(ip)
