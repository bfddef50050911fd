"""Finished-game files -> `GameRecord`: the entry point of the game loaders.

`load_game_record` tells the format by content: an ESPN site-API summary, an ESPN CDN game package,
or a directory of the ESPN core-API documents of one game (`<prefix>Event.json`,
`<prefix>EventCompetitionPlays.json`, ...). `is_game_file` answers the same question without
building the record, to sort a folder of recordings (Postman and HAR captures answer False).
The formats themselves are read in `loaders_site` and `loaders_core`, from shapes in
`loaders_plays`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pressbox.errors import RecordingError
from pressbox.replay.har import is_har
from pressbox.replay.jsonfile import read_json
from pressbox.replay.loaders_core import REQUIRED_DOCUMENTS, record_from_core_documents
from pressbox.replay.loaders_site import (
    is_site_summary,
    record_from_gamepackage,
    record_from_site_summary,
    summary_has_plays,
)
from pressbox.replay.postman import is_postman_collection
from pressbox.replay.record import GameRecord

__all__ = [
    "SUPPORTED_GAME_FORMATS",
    "is_game_file",
    "load_game_record",
    "record_from_core_documents",
    "record_from_gamepackage",
    "record_from_site_summary",
]

SUPPORTED_GAME_FORMATS = (
    "ESPN site-API summary (header, plays[] or drives.previous[].plays[], winprobability[]), "
    "ESPN CDN game package ({gameId, gamepackageJSON}), "
    "a directory of ESPN core-API documents (<prefix>Event.json, <prefix>EventCompetition.json, "
    "<prefix>EventCompetitionStatus.json, <prefix>EventCompetitionPlays.json; optionally "
    "<prefix>EventCompetitionProbabilities.json and <prefix>EventCompetitionDrives.json)"
)

#: Core-API document kind -> file name suffix, as the sports-data-core fixtures name them.
CORE_FILE_SUFFIXES = {
    "event": "Event",
    "competition": "EventCompetition",
    "status": "EventCompetitionStatus",
    "plays": "EventCompetitionPlays",
    "probabilities": "EventCompetitionProbabilities",
    "drives": "EventCompetitionDrives",
}


def load_game_record(path: Path) -> GameRecord:
    """Read one finished game, detecting its format by content; a directory is a core-API set.

    Raises:
        RecordingError: the file is missing or unreadable, not JSON, of an unknown shape, or
            lacks what a game needs. The message names the file and the supported formats.
    """
    if path.is_dir():
        return _load_core_directory(path)
    document = read_json(path, "game file", SUPPORTED_GAME_FORMATS)
    if isinstance(document, Mapping):
        if "gamepackageJSON" in document:
            return record_from_gamepackage(document, source=str(path))
        if is_site_summary(document):
            return record_from_site_summary(document, source=str(path))
    raise RecordingError(
        f"{path}: {_shape(document)} is not a finished-game file; "
        f"supported: {SUPPORTED_GAME_FORMATS}"
    )


def is_game_file(path: Path) -> bool:
    """Whether `path` is a finished game in a supported format, holding plays.

    A directory is checked by file names only; a file is parsed (one JSON parse, no record built).
    """
    try:
        if path.is_dir():
            files = _core_files(path)
            return files is not None and all(kind in files for kind in REQUIRED_DOCUMENTS)
        document = read_json(path, "game file", SUPPORTED_GAME_FORMATS)
    except RecordingError:
        return False
    if not isinstance(document, Mapping):
        return False
    package = document.get("gamepackageJSON")
    summary = package if isinstance(package, Mapping) else document
    return is_site_summary(summary) and summary_has_plays(summary)


def _load_core_directory(path: Path) -> GameRecord:
    files = _core_files(path)
    if files is None:
        raise RecordingError(
            f"{path}: the directory holds no *EventCompetitionPlays.json, so no ESPN core-API "
            f"document set; supported: {SUPPORTED_GAME_FORMATS}"
        )
    missing = [kind for kind in REQUIRED_DOCUMENTS if kind not in files]
    if missing:
        prefix = files["plays"].name.removesuffix(f"{CORE_FILE_SUFFIXES['plays']}.json")
        names = ", ".join(f"{prefix}{CORE_FILE_SUFFIXES[kind]}.json" for kind in missing)
        raise RecordingError(f"{path}: the core-API document set lacks {names}")
    documents = {
        kind: read_json(file, "game file", SUPPORTED_GAME_FORMATS) for kind, file in files.items()
    }
    return record_from_core_documents(documents, source=str(path))


def _core_files(directory: Path) -> dict[str, Path] | None:
    """Kind -> file of the core-API documents in `directory`, named after its plays file."""
    suffix = f"{CORE_FILE_SUFFIXES['plays']}.json"
    plays = sorted(directory.glob(f"*{suffix}"))
    if not plays:
        return None
    if len(plays) > 1:
        names = ", ".join(p.name for p in plays)
        raise RecordingError(f"{directory}: more than one core-API plays document ({names})")
    prefix = plays[0].name.removesuffix(suffix)
    candidates = {
        kind: directory / f"{prefix}{ending}.json" for kind, ending in CORE_FILE_SUFFIXES.items()
    }
    return {kind: file for kind, file in candidates.items() if file.is_file()}


def _shape(document: object) -> str:
    """What a JSON document is, for an error message."""
    if is_postman_collection(document):
        return "a Postman collection (a recording: use load_recording)"
    if is_har(document):
        return "a HAR capture (a recording: use load_recording)"
    if isinstance(document, Mapping):
        keys = ", ".join(list(map(str, document))[:8])
        return f"a JSON object with keys [{keys}]"
    if isinstance(document, list):
        return f"a JSON array of {len(document)} items"
    return f"a JSON {type(document).__name__}"
