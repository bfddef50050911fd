"""Pressbox's own errors. Third-party errors are translated at the boundary and raised `from` them.

PressboxError
├── ConfigError            a setting is missing or unsafe
├── RecordingError         a recording file cannot be read or is not a known format
├── UpstreamError          an upstream (ESPN, Kalshi) request failed
│   ├── UpstreamStatusError    it answered with an HTTP error status (has `.status`)
│   └── UpstreamDataError      it answered with a body we cannot use (not JSON, wrong shape)
└── StoreError             the database refused or failed
"""

from __future__ import annotations


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


class StoreError(PressboxError):
    """The database refused or failed."""
