"""What one upstream host lets us do now: a circuit opened by 403, a pause asked for by 429.

ESPN blocks an IP with HTTP 403 (no Retry-After) and hammering on makes it worse, so a 403 opens
the host's circuit: every request to the host fails fast with `HostBlocked` (none is sent) until the
block period has passed; then one request goes through as a probe (half-open) while the others
keep failing fast; the probe's answer closes the circuit, or a 403 opens it again. A 429 with
`Retry-After` (seconds or an HTTP date) makes the next requests wait at least that long.

Pure state: the caller passes the time (its injected clock's) and does the waiting and sending.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from pressbox.errors import HostBlocked

log = logging.getLogger(__name__)

#: A Retry-After longer than this is read as this: a typo upstream must not stall us for a day.
MAX_RETRY_AFTER = 600.0
#: How long a request refused during a half-open probe is told to wait before trying again.
PROBE_WAIT = 5.0


class CircuitState(StrEnum):
    """Closed: requests flow. Open: every request fails fast. Half-open: one probe is tried."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or None if it
    is absent or unreadable; never negative, at most MAX_RETRY_AFTER."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
            return None
        seconds = (moment - now).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


class HostCircuit:
    """The circuit and the Retry-After pause of one upstream host."""

    def __init__(self, host: str, block: timedelta = timedelta(minutes=5)) -> None:
        if block <= timedelta(0):
            raise ValueError("block must be positive")
        self.host = host
        self.block = block
        self.state = CircuitState.CLOSED
        self.blocked_until: datetime | None = None
        self.not_before: datetime | None = None
        self._probing = False

    def check(self, now: datetime) -> None:
        """Raise HostBlocked if a request may not be sent now (grants no probe)."""
        if self.state is CircuitState.OPEN and self._until(now) > now:
            raise self._blocked(now)
        if self.state is CircuitState.HALF_OPEN and self._probing:
            raise HostBlocked(self.host, now, PROBE_WAIT)

    def admit(self, now: datetime) -> bool:
        """Let a request through, or raise HostBlocked. True means it is the half-open probe:
        the caller must report its outcome (`answered` or `unanswered`)."""
        self.check(now)
        if self.state is CircuitState.CLOSED:
            return False
        if self.state is CircuitState.OPEN:
            self._move(CircuitState.HALF_OPEN)
        self._probing = True
        return True

    def wait(self, now: datetime) -> float:
        """Seconds to wait before sending, as the host asked with Retry-After (0 if none)."""
        if self.not_before is None:
            return 0.0
        return max(0.0, (self.not_before - now).total_seconds())

    def answered(
        self, status: int, now: datetime, *, probe: bool = False, retry_after: str | None = None
    ) -> None:
        """Record an HTTP answer: a 403 opens the circuit (again), any other answer to the probe
        closes it, and a 429's Retry-After pauses the host. An answer to a request sent before
        the circuit opened does not close it: only the probe speaks for the block."""
        if probe:
            self._probing = False
        if status == 403:
            self.blocked_until = now + self.block
            self._move(CircuitState.OPEN)
            return
        if probe:
            self.blocked_until = None
            self._move(CircuitState.CLOSED)
        if status == 429:
            seconds = parse_retry_after(retry_after, now)
            if seconds:
                until = now + timedelta(seconds=seconds)
                self.not_before = max(until, self.not_before or until)

    def unanswered(self, probe: bool) -> None:
        """A request ended without an answer (network error, cancelled): if it was the probe,
        the next request probes instead."""
        if probe:
            self._probing = False

    def _until(self, now: datetime) -> datetime:
        return self.blocked_until or now

    def _blocked(self, now: datetime) -> HostBlocked:
        until = self._until(now)
        return HostBlocked(self.host, until, (until - now).total_seconds())

    def _move(self, state: CircuitState) -> None:
        if state is not self.state:
            log.warning("circuit of %s: %s -> %s", self.host, self.state, state)
            self.state = state
