"""A replay plan: recorded and synthesized games laid on one replay timeline, and what the
fake upstreams (`replay/server.py`, `replay/kalshi.py`) serve.

Sources are recordings (Postman, HAR: recorded responses) and finished-game files (site-API
summaries, core-API document sets, CDN game packages: synthesized on their timeline). Several
sources are laid on one replay timeline, each starting `stagger` after the previous one, so a demo
shows games in different states at once. The streamers reach the replay server through the ESPN
base URL only, exactly as they reach ESPN; `pressbox.replaying` composes it with a runtime.

Kalshi is faked too (`pressbox.replaying.replay_kalshi`): from the Kalshi recordings found beside
the replayed sources (`kalshi/*/kalshi_markets.json`, of no replayed game), and from recorded
candles of replayed games' markets (`replay/candles.py`): files given with `--kalshi`, and files
found in a `kalshi/*/` folder beside the sources whose name holds the game's event ticker
(`kalshi_KXNBAGAME-25MAY31NYKIND-NYK_1min_candles.csv` for the Knicks at the Pacers on
2025-05-31). Each is paired with the finished game whose market it is (same date and teams) and
moved in time with it. No price series is ever made up for a replayed game.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from pressbox.errors import RecordingError
from pressbox.replay import load_recording
from pressbox.replay.candles import MarketCandles, load_candles
from pressbox.replay.kalshi_event import ReplayedEvent, game_event, is_market_of
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
    #: Replayed games' Kalshi events from recorded candles, on the replay timeline.
    markets: list[ReplayedEvent] = field(default_factory=list)

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
    kalshi: Sequence[Path] = (),
    *,
    find_markets: bool = True,
) -> ReplayPlan:
    """Load every source and lay them on one timeline: source i starts `i * stagger` after the
    first one; the clock starts `lead` before the first start. `kalshi` are market files
    (candle CSV, candlestick JSON) to pair with the finished games; with `find_markets`, games
    without one get those found beside the sources. Raises RecordingError."""
    recordings: list[Recording] = []
    records: list[GameRecord] = []
    moves: list[tuple[GameRecord, timedelta]] = []  # each game as loaded, and how it was moved
    anchor: datetime | None = None
    for index, path in enumerate(paths):
        if is_game_file(path):
            record = load_game_record(path)
            anchor = anchor or record.start_time
            delta = anchor + index * stagger - record.start_time
            records.append(record.renamed(record.id, delta))
            moves.append((record, delta))
        else:
            recording = load_recording(path)
            anchor = anchor or recording.start
            recordings.append(shifted(recording, anchor + index * stagger - recording.start))
    merged = Recording([r for rec in recordings for r in rec.responses]) if recordings else None
    starts = [r.start_time for r in records] + [r.start for r in recordings]
    origin = min(starts) - lead if starts else None
    markets = game_markets(moves, kalshi, paths if find_markets else ())
    return ReplayPlan(merged, records, origin, kalshi_recordings(paths), markets)


def game_markets(
    games: Sequence[tuple[GameRecord, timedelta]],
    files: Sequence[Path],
    beside: Sequence[Path] = (),
) -> list[ReplayedEvent]:
    """Each game's Kalshi event from the market `files` that are its markets, else from the
    files found beside the sources `beside`; moved as the game was. Raises RecordingError for a
    file that is no game's market."""
    given: dict[int, list[MarketCandles]] = {}
    for file in files:
        candles = load_candles(file)
        index = next((i for i, (g, _) in enumerate(games) if is_market_of(g, candles)), None)
        if index is None:
            raise RecordingError(
                f"{file}: market {candles.ticker} is not of a replayed game; {_games_text(games)}"
            )
        given.setdefault(index, []).append(candles)
    events = []
    for index, (record, delta) in enumerate(games):
        found = given.get(index) or [load_candles(f) for f in market_files(record, beside)]
        if found:
            event = ReplayedEvent.of(record, found)
            events.append(event.moved(delta, record.start_time + delta))
    return events


def market_files(record: GameRecord, beside: Sequence[Path]) -> list[Path]:
    """Market files recorded for the game in a `kalshi/*/` folder beside (or above) the sources:
    candle CSVs and candlestick JSON files whose name holds the game's event ticker."""
    try:
        event = str(game_event(record))
    except RecordingError:
        return []  # a league Kalshi has no series of
    folders = {f / "kalshi" for path in beside for f in path.resolve().parents}
    found = {
        file
        for folder in sorted(folders)
        for file in folder.glob(f"*/*{event}-*")
        if file.suffix.lower() in (".csv", ".json") and file.is_file()
    }
    return sorted(found)


def _games_text(games: Sequence[tuple[GameRecord, timedelta]]) -> str:
    if not games:
        return "no finished-game file is replayed (only those can be paired with a market)"
    return "the replayed games are " + ", ".join(_game_text(g) for g, _ in games)


def _game_text(game: GameRecord) -> str:
    try:
        return f"{game.id} ({game.short_name}, event {game_event(game)})"
    except RecordingError:
        return f"{game.id} ({game.short_name}, {game.league}: no Kalshi series)"


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
