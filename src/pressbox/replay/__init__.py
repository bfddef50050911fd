"""Replay recorded upstream responses on a replay clock, so streamers run offline on the live path.

`load_recording` reads a recording file (Postman collection v2.1 or HAR 1.2, told apart by content)
into a `Recording`; `create_replay_app` serves it over HTTP at the same paths as ESPN.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pressbox.errors import RecordingError
from pressbox.replay.har import is_har, recording_from_har
from pressbox.replay.jsonfile import read_json
from pressbox.replay.postman import is_postman_collection, recording_from_postman
from pressbox.replay.recording import RecordedResponse, Recording
from pressbox.replay.server import create_replay_app

__all__ = ["RecordedResponse", "Recording", "create_replay_app", "load_recording"]

SUPPORTED_FORMATS = (
    "Postman collection v2.1 with saved responses (info.schema containing 'collection/v2.1'), "
    "HAR 1.2 (log.entries)"
)


def load_recording(path: Path) -> Recording:
    """Read a recording file, detecting its format by content.

    Raises:
        RecordingError: the file is missing or unreadable, not JSON, of an unknown format, or holds
            no usable response. The message names the file and the supported formats.
    """
    document = read_json(path, "recording file", SUPPORTED_FORMATS)
    parse: Callable[[object], Recording]
    if is_postman_collection(document):
        parse = recording_from_postman
    elif is_har(document):
        parse = recording_from_har
    else:
        raise RecordingError(f"{path}: unknown recording format; supported: {SUPPORTED_FORMATS}")
    try:
        return parse(document)
    except RecordingError as exc:
        raise RecordingError(f"{path}: {exc}") from exc
