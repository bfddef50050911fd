"""Retry policy: a pure classifier of failures plus a jittered exponential backoff.

Timeouts, network errors, 5xx and 429 back off exponentially with full jitter; a refusal (403 and
other 4xx) waits the cap at once; a request refused by an open circuit (`HostBlocked`) waits
until the circuit may let a probe through, plus jitter, so the host's pollers do not wake as one.
"""

from __future__ import annotations

from collections.abc import Iterator

import backoff

from pressbox.errors import HostBlocked, UpstreamDataError, UpstreamError, UpstreamStatusError

RETRYABLE_STATUSES = frozenset({404, 408, 425, 429, 500, 502, 503, 504})


def is_retryable(exc: BaseException) -> bool:
    """True for failures that a later attempt may not meet (network, 5xx, 429, a 404 for a
    document ESPN has not published yet, a torn body). 4xx refusals such as 403 are not."""
    if isinstance(exc, UpstreamStatusError):
        return exc.status in RETRYABLE_STATUSES
    return isinstance(exc, UpstreamDataError | UpstreamError)


class Backoff:
    """Delays that grow exponentially with full jitter, capped, and start over after a success."""

    def __init__(self, initial: float = 1.0, cap: float = 60.0) -> None:
        self.initial = initial
        self.cap = cap
        self._delays: Iterator[float] = self._fresh()

    def _fresh(self) -> Iterator[float]:
        delays = backoff.expo(base=2, factor=self.initial, max_value=self.cap)
        next(delays)  # the generator is primed for send(); its first value is None
        return delays

    def next_delay(self, exc: BaseException | None = None) -> float:
        """The next wait; a failure that retrying will not cure waits the cap at once, and a
        blocked host's request waits until its circuit half-opens."""
        if isinstance(exc, HostBlocked):
            return exc.retry_in + float(backoff.full_jitter(self.initial))
        if exc is not None and not is_retryable(exc):
            return float(backoff.full_jitter(self.cap))
        return float(backoff.full_jitter(next(self._delays)))

    def reset(self) -> None:
        """Start over: call after a success."""
        self._delays = self._fresh()
