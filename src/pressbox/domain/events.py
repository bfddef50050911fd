"""Domain events: what changed in a game, with an idempotency key derived from upstream identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pressbox.clock import format_time, parse_time


class EventType(StrEnum):
    """Kinds of change; see docs/protocol.md for each one's data."""

    STATUS = "status"
    SCORE = "score"
    SITUATION = "situation"
    PLAY_ADDED = "play_added"
    PLAY_CORRECTED = "play_corrected"
    PLAY_REMOVED = "play_removed"
    PROBABILITY = "probability"
    DRIVE = "drive"
    MARKET = "market"
    MARKET_STATUS = "market_status"


@dataclass(frozen=True, slots=True)
class Event:
    """A change not yet in the log. `key` is unique per game: appending it twice is a no-op."""

    type: EventType
    key: str
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event in a game's log, with its gap-free sequence number."""

    seq: int
    type: EventType
    key: str
    at: datetime
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The wire form of docs/protocol.md."""
        return {
            "seq": self.seq,
            "type": str(self.type),
            "at": format_time(self.at),
            "data": self.data,
        }

    @classmethod
    def from_json(cls, value: Any) -> StoredEvent:
        """The inverse of `to_json`, with the `key` when the object carries one (the bus's form
        does, the protocol's does not). Raises ValueError when `value` is not such an object."""
        try:
            seq, data = value["seq"], value["data"]
            if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(data, dict):
                raise TypeError("seq must be an integer and data an object")
            kind, key, at = EventType(value["type"]), str(value.get("key", "")), value["at"]
            return cls(seq, kind, key, parse_time(at), data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a stored event: {exc!r}") from exc


def fingerprint(data: Any) -> str:
    """A short stable hash of JSON-able data, for keys of changes that carry no upstream id."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
