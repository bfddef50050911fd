"""Read an HTTP Archive (HAR 1.2, as browsers and proxies export it) into a `Recording`.

Each entry is one recorded response, timed by its HTTP `Date` header or, when there is none, by the
entry's `startedDateTime`. Entries without a usable URL or time are skipped and counted. Pure: takes
parsed JSON.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pressbox.clock import parse_time
from pressbox.errors import RecordingError
from pressbox.replay.recording import (
    RecordedResponse,
    Recording,
    header_value,
    parse_http_date,
    split_url,
)


def is_har(document: object) -> bool:
    """Whether a parsed JSON document looks like a HAR file (`log.entries` is a list)."""
    if not isinstance(document, Mapping):
        return False
    log = document.get("log")
    return isinstance(log, Mapping) and isinstance(log.get("entries"), list)


def recording_from_har(document: object) -> Recording:
    """Build a `Recording` from a parsed HAR document.

    Raises:
        RecordingError: the document is not a HAR file or holds no usable entry.
    """
    if not is_har(document) or not isinstance(document, Mapping):
        raise RecordingError("not a HAR file (expected a list at log.entries)")
    responses: list[RecordedResponse] = []
    skipped = 0
    for entry in document["log"]["entries"]:
        response = _recorded(entry) if isinstance(entry, Mapping) else None
        if response is None:
            skipped += 1
        else:
            responses.append(response)
    if not responses:
        raise RecordingError(
            f"the HAR file holds no entry with a URL and a time ({skipped} skipped)"
        )
    return Recording(responses, skipped=skipped)


def _recorded(entry: Mapping[str, Any]) -> RecordedResponse | None:
    """One HAR entry as a `RecordedResponse`, or None if it lacks a URL, time, status or body."""
    request = _mapping(entry.get("request"))
    response = _mapping(entry.get("response"))
    url = request.get("url")
    status = response.get("status")
    if not isinstance(url, str) or not isinstance(status, int):
        return None
    headers = _headers(response.get("headers"))
    try:
        target = split_url(url)
        recorded_at = _recorded_at(headers, entry.get("startedDateTime"))
        body = _body(_mapping(response.get("content")))
    except ValueError:
        return None
    return RecordedResponse(
        method=str(request.get("method") or "GET").upper(),
        host=target.host,
        path=target.path,
        query=target.query,
        recorded_at=recorded_at,
        status=status,
        headers=headers,
        body=body,
        name=str(entry.get("comment") or ""),
    )


def _recorded_at(headers: tuple[tuple[str, str], ...], started: object) -> datetime:
    """The response's `Date` header, else the entry's `startedDateTime`."""
    date = header_value(headers, "Date")
    if date is not None:
        return parse_http_date(date)
    if isinstance(started, str):
        return parse_time(started)
    raise ValueError("entry has neither a Date header nor a startedDateTime")


def _body(content: Mapping[str, Any]) -> bytes:
    """The response body: `content.text`, base64-decoded when `content.encoding` says so."""
    text = content.get("text")
    if not isinstance(text, str):
        return b""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError("content.text is not valid base64") from exc
    return text.encode("utf-8")


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    """HAR's `[{name, value}, ...]` header list as (name, value) pairs."""
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(header["name"]), str(header.get("value", "")))
        for header in value
        if isinstance(header, Mapping) and isinstance(header.get("name"), str)
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
