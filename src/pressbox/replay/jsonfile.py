"""Reading the JSON files replays are made of, with errors that name the file and the formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pressbox.errors import RecordingError
from pressbox.replay.capture import repair_truncated


def read_json(path: Path, what: str, formats: str) -> Any:
    """The parsed JSON of `path` (a UTF-8 BOM is allowed). A HAR file that `pressbox record` was
    writing when it was cut short is completed with what it captured. Raises RecordingError
    naming the file (`what`: "recording file", "game file") and the supported `formats`."""
    return decode_json(path, read_file(path, what), formats)


def read_file(path: Path, what: str) -> bytes:
    """The bytes of `path`; RecordingError naming the file (`what`) if it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise RecordingError(f"{what} not found: {path}") from exc
    except OSError as exc:
        raise RecordingError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def decode_json(path: Path, raw: bytes, formats: str) -> Any:
    """The parsed JSON of `raw`, read from `path` (see `read_json`)."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        repaired = repair_truncated(raw.decode("utf-8", errors="replace"))
        if repaired is not None:
            return json.loads(repaired)
        raise RecordingError(f"{path}: not a JSON file ({exc}); supported: {formats}") from exc
