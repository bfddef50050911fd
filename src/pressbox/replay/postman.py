"""Read a Postman collection (v2.1) whose requests carry saved responses into a `Recording`.

Each saved response is one recorded response: its URL comes from the response's
`originalRequest.url` (else the item's `request.url`) and its time from its HTTP `Date` header.
Saved responses without a usable URL or Date are skipped and counted. Pure: takes parsed JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pressbox.errors import RecordingError
from pressbox.replay.recording import (
    RecordedResponse,
    Recording,
    header_value,
    parse_http_date,
    split_url,
)

SCHEMA_MARK = "collection/v2.1"


def is_postman_collection(document: object) -> bool:
    """Whether a parsed JSON document declares the Postman collection v2.1 schema."""
    if not isinstance(document, Mapping):
        return False
    info = document.get("info")
    schema = info.get("schema") if isinstance(info, Mapping) else None
    return isinstance(schema, str) and SCHEMA_MARK in schema


def recording_from_postman(document: object) -> Recording:
    """Build a `Recording` from a parsed Postman v2.1 collection.

    Raises:
        RecordingError: the document is not a Postman v2.1 collection or holds no usable response.
    """
    if not is_postman_collection(document) or not isinstance(document, Mapping):
        raise RecordingError(
            f"not a Postman collection v2.1 (expected info.schema containing {SCHEMA_MARK!r})"
        )
    responses: list[RecordedResponse] = []
    skipped = 0
    for item in _request_items(document.get("item")):
        for saved in _list(item.get("response")):
            response = _recorded(item, saved) if isinstance(saved, Mapping) else None
            if response is None:
                skipped += 1
            else:
                responses.append(response)
    if not responses:
        raise RecordingError(
            f"the Postman collection holds no saved response with a URL and a Date "
            f"({skipped} skipped)"
        )
    return Recording(responses, skipped=skipped)


def _request_items(items: object) -> Iterator[Mapping[str, Any]]:
    """Walk nested folders (items that hold `item`) down to the request items."""
    for entry in _list(items):
        if not isinstance(entry, Mapping):
            continue
        if "item" in entry:
            yield from _request_items(entry["item"])
        else:
            yield entry


def _recorded(item: Mapping[str, Any], saved: Mapping[str, Any]) -> RecordedResponse | None:
    """One saved response as a `RecordedResponse`, or None if it lacks a URL, Date or status."""
    original = _mapping(saved.get("originalRequest"))
    request = _mapping(item.get("request"))
    url = _url(original.get("url")) or _url(request.get("url"))
    headers = _headers(saved.get("header"))
    date = header_value(headers, "Date")
    status = saved.get("code")
    if url is None or date is None or not isinstance(status, int):
        return None
    try:
        target = split_url(url)
        recorded_at = parse_http_date(date)
    except ValueError:
        return None
    body = saved.get("body")
    method = original.get("method") or request.get("method") or "GET"
    return RecordedResponse(
        method=str(method).upper(),
        host=target.host,
        path=target.path,
        query=target.query,
        recorded_at=recorded_at,
        status=status,
        headers=headers,
        body=body.encode("utf-8") if isinstance(body, str) else b"",
        name=str(saved.get("name") or item.get("name") or ""),
    )


def _url(value: object) -> str | None:
    """A Postman URL: either a string or an object whose `raw` is the string."""
    if isinstance(value, Mapping):
        value = value.get("raw")
    return value if isinstance(value, str) and value.strip() else None


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    """Postman's `[{key, value}, ...]` header list as (name, value) pairs."""
    pairs = []
    for header in _list(value):
        if isinstance(header, Mapping) and isinstance(header.get("key"), str):
            pairs.append((str(header["key"]), str(header.get("value", ""))))
    return tuple(pairs)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
