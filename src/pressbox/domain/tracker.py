"""The tracker: ESPN documents in, domain events out. Pure: no I/O, no clock of its own.

One tracker follows one game. It remembers what it has seen (body digests, plays, probability
points, score, situation) so that only *changes* become events, and it can rebuild that memory from
the event log so a resumed stream continues exactly where the last one stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pressbox.clock import format_time
from pressbox.domain.documents import (
    Document,
    DocumentKind,
    DriveItem,
    PlayItem,
    ProbabilityItem,
    SituationDoc,
    SituationFields,
    StatusDoc,
    read,
    read_items,
)
from pressbox.domain.events import Event, EventType, StoredEvent, fingerprint
from pressbox.domain.scoreboard import BoardGame, BoardLastPlay
from pressbox.domain.sports import Phase, phase_of

#: The fields of a play a viewer sees: a play first known from the scoreboard (a preview) is
#: re-sent, completed, when its full record differs in one of them.
SHOWN = ("text", "period", "clock", "type", "score_value", "home_score", "away_score", "team_id")


class Tracker:
    """Turns one game's documents into ordered events; `apply` is the only way in."""

    def __init__(self) -> None:
        self._digests: dict[DocumentKind, str] = {}
        self.status: dict[str, Any] | None = None
        self.score: tuple[int, int] | None = None
        self.situation: dict[str, Any] | None = None
        self._plays: dict[str, tuple[str | None, str]] = {}
        self._wallclocks: dict[str, str] = {}
        self._probabilities: set[str] = set()
        self._drives: dict[str, str] = {}
        self._removed: set[str] = set()  # plays removed upstream (one may come back)
        #: Plays known only from the scoreboard so far: their shown fields.
        self._previews: dict[str, dict[str, Any]] = {}
        #: The newest play known (from the board or the plays document): a document that does
        #: not reach it is older than what was seen, and its score is not the game's.
        self._newest: str | None = None

    @property
    def phase(self) -> Phase | None:
        """The game phase of the last status seen, or None before any."""
        return Phase(self.status["phase"]) if self.status else None

    def has_play(self, play_id: str) -> bool:
        """Whether the play `play_id` has been seen (and not removed since)."""
        return play_id in self._plays

    def has_probability(self, item_id: str) -> bool:
        """Whether the probability point `item_id` (its play's id) has been seen."""
        return item_id in self._probabilities

    def apply(self, document: Document) -> list[Event]:
        """Events for what changed since the last document of its kind; [] for the same body."""
        if self._digests.get(document.kind) == document.digest:
            return []
        # Only a whole read shows that a play is gone; an edge read holds a few pages. Whether
        # it reaches the newest play is judged before the handler moves that play on.
        removals = None
        if document.kind is DocumentKind.PLAYS and document.complete:
            present = {item.get("id") for item in document.items if isinstance(item, dict)}
            # A document that does not reach the newest play seen is older than the board that
            # showed it: the plays only the board showed are not gone from it, just not in it.
            removals = (present, self._newest is None or self._newest in present)
        handler = self._handlers().get(document.kind)
        events = handler(document.body, document.fetched_at) if handler else []
        if removals is not None:
            events[:0] = self._removed_plays(*removals, document.fetched_at)
        self._digests[document.kind] = document.digest
        return events

    def apply_board(self, game: BoardGame, at: datetime, situation: bool = True) -> list[Event]:
        """Events for what the league scoreboard shows of the game beyond its status (which
        goes through `apply` as a status document): its last play as a preview (`preview`:
        true; its full record comes with the plays document), that play's win probability, the
        score and, with `situation`, the situation. Things already known give no event."""
        events: list[Event] = []
        last = game.last_play
        if last is not None and last.id is not None:
            events.extend(self._board_play(game, last, at))
            events.extend(self._board_probability(last, at))
            scored = game.home_score is not None and game.away_score is not None
            if scored and last.id == self._newest:  # not a board older than the plays seen
                score = (game.home_score or 0, game.away_score or 0)
                events.extend(self._score_change(score, last.id, at))
        if situation and game.situation is not None:
            data = situation_data(game.situation, game.situation.possession, game.last_play_id)
            events.extend(self._situation_change(data, at))
        return events

    def _board_play(self, game: BoardGame, last: BoardLastPlay, at: datetime) -> list[Event]:
        assert last.id is not None
        if last.id in self._plays or last.id in self._removed:
            return []
        data: dict[str, Any] = {
            "id": last.id,
            "sequence": None,
            "period": game.status.period,
            "clock": game.status.display_clock,
            "text": last.text,
            "short_text": None,
            "type": last.type.text if last.type else None,
            "scoring": last.score_value > 0,
            "score_value": last.score_value,
            "home_score": game.home_score if game.home_score is not None else 0,
            "away_score": game.away_score if game.away_score is not None else 0,
            "team_id": last.team.id if last.team else None,
            "drive_id": None,
            "wallclock": None,
            "modified": None,
            "preview": True,
        }
        self._plays[last.id] = (None, last.text)
        self._previews[last.id] = {k: data[k] for k in SHOWN}
        self._newest = last.id
        return [Event(EventType.PLAY_ADDED, f"play:{last.id}", at, data)]

    def _board_probability(self, last: BoardLastPlay, at: datetime) -> list[Event]:
        point = last.probability
        if point is None or last.id is None or last.id in self._probabilities:
            return []
        self._probabilities.add(last.id)
        data = {
            "id": last.id,
            "sequence": None,
            "play_id": last.id,
            "home": point.home,
            "away": point.away,
            "tie": point.tie,
            "seconds_left": None,
            "time": format_time(at),
        }
        return [Event(EventType.PROBABILITY, f"prob:{last.id}", at, data)]

    def restore(self, events: Iterable[StoredEvent]) -> None:
        """Rebuild memory from a game's event log (not digests: the next fetch re-reads)."""
        for event in events:
            data = event.data
            if event.type is EventType.STATUS:
                self.status = data
            elif event.type is EventType.SCORE:
                self.score = (data["home"], data["away"])
            elif event.type is EventType.SITUATION:
                self.situation = data
            elif event.type in (EventType.PLAY_ADDED, EventType.PLAY_CORRECTED):
                self._plays[data["id"]] = (data.get("modified"), data["text"])
                if data.get("wallclock"):
                    self._wallclocks[data["id"]] = data["wallclock"]
                if data.get("preview"):
                    self._previews[data["id"]] = {k: data.get(k) for k in SHOWN}
                else:
                    self._previews.pop(data["id"], None)
                if event.type is EventType.PLAY_ADDED and not data.get("before"):
                    self._newest = data["id"]
            elif event.type is EventType.PLAY_REMOVED:
                self._plays.pop(data["id"], None)
                self._removed.add(data["id"])
                if data["id"] == self._newest:
                    self._newest = None
            elif event.type is EventType.PROBABILITY:
                self._probabilities.add(data["id"])
            elif event.type is EventType.DRIVE:
                self._drives[data["id"]] = fingerprint(data)

    def _handlers(self) -> dict[DocumentKind, Callable[[Any, datetime], list[Event]]]:
        return {
            DocumentKind.STATUS: self._on_status,
            DocumentKind.SITUATION: self._on_situation,
            DocumentKind.PLAYS: self._on_plays,
            DocumentKind.PROBABILITIES: self._on_probabilities,
            DocumentKind.DRIVES: self._on_drives,
        }

    def _on_status(self, body: Any, at: datetime) -> list[Event]:
        doc = read(StatusDoc, body, "status")
        t = doc.type
        data = {
            "state": t.state,
            "name": t.name,
            "detail": t.detail,
            "short_detail": t.short_detail,
            "period": doc.period,
            "clock": doc.clock,
            "display_clock": doc.display_clock,
            "completed": t.completed,
            "phase": str(phase_of(t.name, t.state, t.completed, doc.clock, t.detail)),
        }
        if data == self.status:
            return []
        self.status = data
        key = f"status:{t.name}:{doc.period}:{doc.display_clock}:{fingerprint(data)}"
        return [Event(EventType.STATUS, key, at, data)]

    def _on_situation(self, body: Any, at: datetime) -> list[Event]:
        doc = read(SituationDoc, body, "situation")
        possession = doc.team.id if doc.team else None
        last = doc.last_play.id if doc.last_play else None
        return self._situation_change(situation_data(doc, possession, last), at)

    def _situation_change(self, data: dict[str, Any], at: datetime) -> list[Event]:
        if data == self.situation:
            return []
        self.situation = data
        return [Event(EventType.SITUATION, f"situation:{fingerprint(data)}", at, data)]

    def _on_plays(self, body: Any, at: datetime) -> list[Event]:
        # ESPN lists plays in game order; sequenceNumber is an edit order (a late entry gets a
        # later number), so the document's order is kept.
        plays = read_items(PlayItem, body, "plays")
        # A play new to us may come before one already known (seen on the scoreboard first):
        # its event names that play (`before`) so that viewers keep game order. A document that
        # does not reach the newest play seen (it is older than the board) ends before the
        # first preview it lacks, so its new last plays go before that preview.
        ids = {play.id for play in plays}
        reaches = self._newest is None or self._newest in ids
        before: list[str | None] = []
        known = None if reaches else next((p for p in self._previews if p not in ids), None)
        for play in reversed(plays):
            before.append(known)
            if play.id in self._plays:
                known = play.id
        before.reverse()
        events = [
            event
            for play, after in zip(plays, before, strict=True)
            if (event := self._play_event(play, at, after))
        ]
        if plays and reaches:
            # The document reaches the newest play seen (it is not older than the board).
            last = plays[-1]
            self._newest = last.id
            events.extend(self._score_change((last.home_score, last.away_score), last.id, at))
        return events

    def _play_event(self, play: PlayItem, at: datetime, before: str | None = None) -> Event | None:
        seen = self._plays.get(play.id)
        if seen == (play.modified, play.text):
            return None
        data = play_data(play)
        self._plays[play.id] = (play.modified, play.text)
        if play.wallclock:
            self._wallclocks[play.id] = play.wallclock
        preview = self._previews.pop(play.id, None)
        if preview is not None:
            # The full record of a play first seen on the scoreboard: re-sent only if a viewer
            # would see a difference.
            if preview == {k: data[k] for k in SHOWN}:
                return None
            data["previous_text"] = preview["text"]
            data["completes"] = True
            key = f"play:{play.id}:complete:{fingerprint(data)}"
            return Event(EventType.PLAY_CORRECTED, key, at, data)
        if seen is None and before is not None:
            data["before"] = before
        if seen is None and play.id not in self._removed:
            return Event(EventType.PLAY_ADDED, f"play:{play.id}", at, data)
        if seen is None:  # removed, then back: a key of its own, or the log would drop it
            key = f"play:{play.id}:back:{play.modified}:{fingerprint(play.text)}"
            return Event(EventType.PLAY_ADDED, key, at, data)
        data["previous_text"] = seen[1]
        key = f"play:{play.id}:{play.modified}:{fingerprint(play.text)}"
        return Event(EventType.PLAY_CORRECTED, key, at, data)

    def _removed_plays(self, present: set[Any], reaches: bool, at: datetime) -> list[Event]:
        """`play_removed` for every play seen before that a whole plays document lacks (but a
        play only previewed, when the document does not reach the newest play)."""
        events = []
        gone = [p for p in self._plays if p not in present and (reaches or p not in self._previews)]
        for play_id in gone:
            modified, text = self._plays.pop(play_id)
            self._previews.pop(play_id, None)
            self._removed.add(play_id)
            if play_id == self._newest:
                self._newest = None
            data = {"id": play_id, "previous_text": text}
            key = f"play:{play_id}:removed:{modified}:{fingerprint(text)}"
            events.append(Event(EventType.PLAY_REMOVED, key, at, data))
        return events

    def _score_change(self, score: tuple[int, int], play_id: str, at: datetime) -> list[Event]:
        if score == self.score:
            return []
        previous, self.score = self.score, score
        key = f"score:{previous}->{score}:{play_id}"
        return [Event(EventType.SCORE, key, at, {"home": score[0], "away": score[1]})]

    def _on_probabilities(self, body: Any, at: datetime) -> list[Event]:
        events = []
        for item in read_items(ProbabilityItem, body, "probabilities"):
            if item.id in self._probabilities:
                continue
            self._probabilities.add(item.id)
            play_id = item.play.id if item.play else None
            data = {
                "id": item.id,
                "sequence": item.sequence,
                "play_id": play_id,
                "home": item.home,
                "away": item.away,
                "tie": item.tie,
                "seconds_left": item.seconds_left,
                "time": self._wallclocks.get(play_id or "") or format_time(at),
            }
            events.append(Event(EventType.PROBABILITY, f"prob:{item.id}", at, data))
        return events

    def _on_drives(self, body: Any, at: datetime) -> list[Event]:
        events = []
        for drive in read_items(DriveItem, body, "drives"):
            data = drive_data(drive)
            signature = fingerprint(data)
            if self._drives.get(drive.id) == signature:
                continue
            self._drives[drive.id] = signature
            events.append(Event(EventType.DRIVE, f"drive:{drive.id}:{signature}", at, data))
        return events


def situation_data(
    situation: SituationFields, possession: str | None, last_play_id: str | None
) -> dict[str, Any]:
    """The wire form of a situation, from the situation document or the scoreboard
    (docs/protocol.md)."""
    return {
        "down": situation.down,
        "distance": situation.distance,
        "yard_line": situation.yard_line,
        "down_distance_text": situation.down_distance_text,
        "possession_text": situation.possession_text,
        "possession_team_id": possession,
        "is_red_zone": situation.is_red_zone,
        "home_timeouts": situation.home_timeouts,
        "away_timeouts": situation.away_timeouts,
        "last_play_id": last_play_id,
    }


def play_data(play: PlayItem) -> dict[str, Any]:
    """The wire form of a play (docs/protocol.md)."""
    return {
        "id": play.id,
        "sequence": play.sequence,
        "period": play.period.number,
        "clock": play.clock.display_value,
        "text": play.text,
        "short_text": play.short_text,
        "type": play.type.text if play.type else None,
        "scoring": play.scoring,
        "score_value": play.score_value,
        "home_score": play.home_score,
        "away_score": play.away_score,
        "team_id": play.team.id if play.team else None,
        "drive_id": play.drive.id if play.drive else None,
        "wallclock": play.wallclock,
        "modified": play.modified,
    }


def drive_data(drive: DriveItem) -> dict[str, Any]:
    """The wire form of a drive (docs/protocol.md)."""
    return {
        "id": drive.id,
        "team_id": drive.team.id if drive.team else None,
        "description": drive.description,
        "result": drive.display_result,
        "is_score": drive.is_score,
        "start_text": drive.start.get("text"),
        "end_text": drive.end.get("text"),
        "plays": drive.offensive_plays,
    }
