"""A replay plan: recorded and synthesized games laid on one replay timeline, and what the
fake upstreams (`replay/server.py`, `replay/kalshi.py`) serve.

Sources are recordings (Postman, HAR: recorded responses) and finished-game files (site-API
summaries, core-API document sets, CDN game packages: synthesized on their timeline). Several
sources are laid on one replay timeline, each starting `stagger` after the previous one, so a demo
shows games in different states at once. The streamers reach the replay server through the ESPN
base URL only, exactly as they reach ESPN; `pressbox.replaying` composes it with a runtime.

Kalshi is faked too (`pressbox.replaying.replay_kalshi`), from the Kalshi recordings found
beside the replayed sources. No price series is ever made up for a replayed game.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from pressbox.replay import load_recording
from pressbox.replay.loaders import is_game_file, load_game_record
from pressbox.replay.record import GameRecord
from pressbox.replay.recording import Recording

_EVENT_PATH = re.compile(
    r"^/v2/sports/(?P<sport>[^/]+)/leagues/(?P<league>[^/]+)/events/(?P<id>\d+)$"
)


@dataclass(frozen=True)
class RecordedGame:
    """A game whose event document a recording holds."""

    sport: str
    league: str
    id: str


@dataclass
class ReplayPlan:
    """What one replay serves: recorded responses, synthesized games, and where time starts."""

    recording: Recording | None
    records: list[GameRecord] = field(default_factory=list)
    origin: datetime | None = None
    #: Kalshi recordings (`kalshi_*.json`) beside the sources, for the fake Kalshi; None: none.
    kalshi: Path | None = None

    @property
    def games(self) -> list[RecordedGame]:
        """Every game to stream, recorded or synthesized."""
        found = recorded_games(self.recording) if self.recording else []
        found += [RecordedGame(r.sport, r.league, r.id) for r in self.records]
        return found

    @property
    def start(self) -> datetime:
        """Where the replay clock starts."""
        assert self.origin is not None
        return self.origin

    @property
    def end(self) -> datetime:
        """When the last source has nothing more to say."""
        ends = [r.last_wallclock + timedelta(minutes=5) for r in self.records]
        if self.recording is not None:
            ends.append(self.recording.end)
        return max(ends)


def plan_replay(
    paths: list[Path],
    stagger: timedelta = timedelta(minutes=20),
    lead: timedelta = timedelta(minutes=5),
) -> ReplayPlan:
    """Load every source and lay them on one timeline: source i starts `i * stagger` after the
    first one; the clock starts `lead` before the first start. Raises RecordingError."""
    recordings: list[Recording] = []
    records: list[GameRecord] = []
    anchor: datetime | None = None
    for index, path in enumerate(paths):
        if is_game_file(path):
            record = load_game_record(path)
            anchor = anchor or record.start_time
            records.append(record.renamed(record.id, anchor + index * stagger - record.start_time))
        else:
            recording = load_recording(path)
            anchor = anchor or recording.start
            recordings.append(shifted(recording, anchor + index * stagger - recording.start))
    merged = Recording([r for rec in recordings for r in rec.responses]) if recordings else None
    starts = [r.start_time for r in records] + [r.start for r in recordings]
    origin = min(starts) - lead if starts else None
    return ReplayPlan(merged, records, origin, kalshi_recordings(paths))


def kalshi_recordings(paths: Sequence[Path]) -> Path | None:
    """The first directory of Kalshi recordings (`kalshi/*/kalshi_markets.json`) in a folder
    holding one of `paths`, or any folder above it."""
    for path in paths:
        for folder in path.resolve().parents:
            found = sorted((folder / "kalshi").glob("*/kalshi_markets.json"))
            if found:
                return found[0].parent
    return None


def shifted(recording: Recording, delta: timedelta) -> Recording:
    """The same recording, every response `delta` later."""
    if not delta:
        return recording
    moved = [replace(r, recorded_at=r.recorded_at + delta) for r in recording.responses]
    return Recording(moved, skipped=recording.skipped)


def recorded_games(recording: Recording) -> list[RecordedGame]:
    """Every game of the recording, found by its event document path."""
    found = {
        m["id"]: RecordedGame(m["sport"], m["league"], m["id"])
        for path in recording.paths()
        if (m := _EVENT_PATH.match(path))
    }
    return [found[key] for key in sorted(found)]
