"""Capture upstream responses into a HAR 1.2 file that `pressbox replay` plays back.

The file is written as the responses arrive (one entry at a time, flushed), so stopping a long
recording loses nothing; `close()` ends the JSON. A file cut short by a crash is repaired on load.
A response whose body equals the previous one for the same URL is not written again: the replay
server serves the latest response at or before a time, so the earlier copy answers the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import IO, Any

import httpx

from pressbox.clock import Clock

CREATOR = {"name": "pressbox", "version": "0.1.0"}
_HEAD = '{"log": {"version": "1.2", "creator": ' + json.dumps(CREATOR) + ', "entries": [\n'
_TAIL = "\n]}}\n"
#: Headers that describe the encoded transfer, not the body we store (decoded).
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class HarWriter:
    """Appends HAR entries to a file as they come; `close()` completes the document."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._file.write(_HEAD)
        self._last_digest: dict[str, str] = {}
        self.entries = 0
        self.skipped_unchanged = 0
        self.bytes = 0

    def add(self, entry: dict[str, Any], url: str, body: bytes) -> None:
        """Write `entry` unless its body repeats the previous body of `url`."""
        digest = hashlib.sha256(body).hexdigest()
        if self._last_digest.get(url) == digest:
            self.skipped_unchanged += 1
            return
        self._last_digest[url] = digest
        text = json.dumps(entry, separators=(",", ":"))
        self._file.write((",\n" if self.entries else "") + text)
        self._file.flush()
        self.entries += 1
        self.bytes += len(body)

    def close(self) -> None:
        if not self._file.closed:
            self._file.write(_TAIL)
            self._file.close()


def repair_truncated(text: str) -> str | None:
    """Complete a HAR file this module was writing when it was cut short; None if not ours."""
    if not text.startswith(_HEAD[:40]):
        return None
    body = text.rstrip()
    if body.endswith("]}}"):
        return None
    cut = body.rfind("\n")  # entries are one per line: drop a half-written last line
    if cut > len(_HEAD) - 2 and not body.endswith("}"):
        body = body[:cut]
    return body.rstrip().rstrip(",") + _TAIL


class CapturingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that passes requests on and writes each response to a HarWriter."""

    def __init__(
        self, writer: HarWriter, clock: Clock, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.writer = writer
        self.clock = clock
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = self.clock.now()
        began = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        elapsed_ms = (time.perf_counter() - began) * 1000
        headers = [
            (k, v) for k, v in response.headers.items() if k.lower() not in _TRANSFER_HEADERS
        ]
        self.writer.add(
            _entry(request, response.status_code, headers, body, started, elapsed_ms),
            str(request.url),
            body,
        )
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _entry(
    request: httpx.Request,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    started: Any,
    elapsed_ms: float,
) -> dict[str, Any]:
    mime = {k.lower(): v for k, v in headers}.get("content-type", "application/json")
    try:
        content = {"size": len(body), "mimeType": mime, "text": body.decode("utf-8")}
    except UnicodeDecodeError:
        content = {
            "size": len(body),
            "mimeType": mime,
            "text": base64.b64encode(body).decode(),
            "encoding": "base64",
        }
    return {
        "startedDateTime": started.isoformat().replace("+00:00", "Z"),
        "time": round(elapsed_ms, 3),
        "request": {
            "method": request.method,
            "url": str(request.url),
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in request.headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in request.url.params.multi_items()],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": status,
            "statusText": httpx.codes.get_reason_phrase(status),
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in headers],
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(elapsed_ms, 3), "receive": 0},
    }
