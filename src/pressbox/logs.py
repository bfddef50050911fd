"""Logging: plain text for people, JSON lines for log pipelines (`PRESSBOX_LOG_FORMAT`).

Every record carries the ids of what it is about, taken from context variables that the code
sets where the work begins: `game_id` (a streamer and its workers), `runner_id` (a runner and the
streamers it holds). Tasks inherit them from the task that created them, so a document worker's
lines name its game and runner without passing them around.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

game_id: ContextVar[str | None] = ContextVar("game_id", default=None)
runner_id: ContextVar[str | None] = ContextVar("runner_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(game_id)s %(runner_id)s"


class ContextIds(logging.Filter):
    """Puts the context's `game_id` and `runner_id` on every record (None when unset), and
    `ids`, a short text form of them for the plain format."""

    def filter(self, record: logging.LogRecord) -> bool:
        game, runner = game_id.get(), runner_id.get()
        parts = [f"game={game}"] if game else []
        parts += [f"runner={runner}"] if runner else []
        record.__dict__.update(
            game_id=game, runner_id=runner, ids=f" [{' '.join(parts)}]" if parts else ""
        )
        return True


def configure_logging(level: str, form: str = "text") -> None:
    """Log to stderr at `level`, as `text` or `json` lines; replaces earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextIds())
    if form == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
