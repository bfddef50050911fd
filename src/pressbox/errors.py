"""Pressbox's own errors. Third-party errors are translated at the boundary and raised `from` them.

PressboxError
├── ConfigError            a setting is missing or unsafe
├── RecordingError         a recording file cannot be read or is not a known format
├── UpstreamError          an upstream (ESPN, Kalshi) request failed
│   ├── UpstreamStatusError    it answered with an HTTP error status (has `.status`)
│   ├── UpstreamDataError      it answered with a body we cannot use (not JSON, wrong shape)
│   └── HostBlocked            not sent: the host refused us (HTTP 403) and its circuit is open
└── StoreError             the database refused or failed
    └── UnknownStream          no stream for that game id
"""

from __future__ import annotations

from datetime import datetime


class PressboxError(Exception):
    """Root of every error Pressbox raises on purpose."""


class ConfigError(PressboxError):
    """A setting is missing, malformed or unsafe."""


class RecordingError(PressboxError):
    """A recording file cannot be read or is not a known format."""


class UpstreamError(PressboxError):
    """An upstream request failed (network, timeout, HTTP status or body)."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class UpstreamStatusError(UpstreamError):
    """Upstream answered with an HTTP error status."""

    def __init__(self, status: int, *, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}", url=url)
        self.status = status


class UpstreamDataError(UpstreamError):
    """Upstream answered with a body that is not the JSON document we expected."""


class HostBlocked(UpstreamError):
    """Not sent: the host answered 403 (ESPN's IP block) and every request to it fails fast
    until `until`, when one probe request may test whether the block has lifted."""

    def __init__(self, host: str, until: datetime, retry_in: float) -> None:
        super().__init__(
            f"{host} refused us (HTTP 403): requests paused until {until:%Y-%m-%dT%H:%M:%SZ}",
            url=None,
        )
        self.host = host
        self.until = until
        #: Seconds (of the client's clock) until a request may be tried again.
        self.retry_in = retry_in


class StoreError(PressboxError):
    """The database refused or failed."""


class UnknownStream(StoreError):
    """No stream exists for the game id asked about."""


class LeaseLost(StoreError):
    """A write on behalf of a lease holder found the stream held by someone else (or by no one):
    the writer must stop following the stream."""
