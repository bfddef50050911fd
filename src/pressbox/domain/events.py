"""Domain events: what changed in a game, with an idempotency key derived from upstream identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pressbox.clock import format_time


class EventType(StrEnum):
    """Kinds of change; see docs/protocol.md for each one's data."""

    STATUS = "status"
    SCORE = "score"
    SITUATION = "situation"
    PLAY_ADDED = "play_added"
    PLAY_CORRECTED = "play_corrected"
    PROBABILITY = "probability"
    DRIVE = "drive"


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


def fingerprint(data: Any) -> str:
    """A short stable hash of JSON-able data, for keys of changes that carry no upstream id."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
