"""The wire form of live messages (docs/protocol.md): compact ASCII JSON, each encoded once.

Events are encoded one by one and kept encoded (the history window holds the strings), so an
`events` message is a join of strings, whether it goes to every viewer of a game or to one
catching up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pressbox.domain.events import StoredEvent

VERSION = 1


def encode(message: dict[str, Any]) -> str:
    """A protocol message as compact ASCII JSON, with its version."""
    return json.dumps({**message, "v": VERSION}, separators=(",", ":"))


def encode_event(event: StoredEvent) -> str:
    """One event envelope as JSON, encoded once and reused in every message that carries it."""
    return json.dumps(event.to_json(), separators=(",", ":"))


def events_message(encoded: Iterable[str], sent_ms: int) -> str:
    """An `events` message around already encoded events; `sent` is epoch ms at encoding."""
    return f'{{"type":"events","v":{VERSION},"sent":{sent_ms},"events":[{",".join(encoded)}]}}'


def chunks(encoded: Iterable[str], max_bytes: int) -> Iterator[list[str]]:
    """Encoded events in runs of at most `max_bytes` (at least one event each)."""
    chunk: list[str] = []
    size = 0
    for text in encoded:
        if chunk and size + len(text) > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text)
    if chunk:
        yield chunk
