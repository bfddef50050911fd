"""When each of a game's documents is fetched next, and how: the fetch policy. Pure: no I/O.

The streamer's workers do the fetching; a `FetchPolicy` decides, from what the streamer observed
of the game (a `GameView`), when a document is due and whether to read it whole or only its live
edge (the last pages of a collection). Two policies:

- `SeedPolicy`: every document on its fixed cadence, read whole. The seed's behaviour, kept as
  the baseline of the benchmarks (`PRESSBOX_FETCH_POLICY=seed`).
- `EdgePolicy` (the default): a cheap sentinel says when something changed.
  With the league's scoreboard (status, score, situation and `situation.lastPlay` with its win
  probability, for every game in one request), the board itself delivers each new play (a
  preview), its probability and the situation: the situation document is not read, and plays
  and probabilities are read from their live edge only when the board suggests it skipped a
  play (the new last play does not start where the previous one ended, or the score moved by
  more than the play's value), else at most every `detail_every` after changes.
  Without a board, the game's situation document is the sentinel, on its cadence: plays and
  probabilities are read from their live edge when it changed (again while its last play is not
  in them yet, a few times), plus a safety poll every `safety_every`.
  Either way a whole read (reconciliation, which catches corrections and removals on older
  pages) every `reconcile_every` and at every break and the end; drives and leaders after a
  drive change or a scoring play, at most every `slow_every`, and drives whole every
  `drives_reconcile_every`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pressbox.domain.documents import DocumentKind
from pressbox.domain.events import Event, EventType
from pressbox.domain.scoreboard import BoardLastPlay
from pressbox.domain.sports import SportProfile

#: Documents read from their live edge by the edge policy (collections whose items ascend).
EDGE_KINDS = frozenset({DocumentKind.PLAYS, DocumentKind.PROBABILITIES, DocumentKind.DRIVES})
#: Documents the edge policy reads on the sentinel's changes.
LIVE_KINDS = frozenset({DocumentKind.PLAYS, DocumentKind.PROBABILITIES})


class FetchMode(StrEnum):
    """How a document is read."""

    WHOLE = "whole"  # every page (a plain document is always read whole)
    EDGE = "edge"  # a collection's last page(s) only


@dataclass(frozen=True)
class Fetch:
    """A decision: fetch in `mode` after `delay` seconds (0: now)."""

    delay: float
    mode: FetchMode


@dataclass
class DocumentState:
    """What the streamer knows of one document's fetches."""

    last: datetime | None = None  # when the last successful fetch began
    last_whole: datetime | None = None
    count: int | None = None  # items of the collection at the last read
    seen: int = 0  # the view's `changes` the last fetch answered
    slow_seen: int = 0  # the view's `slow_changes` the last fetch answered
    chases: int = 0  # fetches since the sentinel's last play was first missing
    gaps_seen: int = 0  # the view's `gaps` the last fetch answered


@dataclass
class GameView:
    """What the streamer observed of one game, as the policy needs it: counters of the changes
    the sentinel showed, the sentinel's last play, and each document's fetches."""

    documents: dict[DocumentKind, DocumentState] = field(default_factory=dict)
    changes: int = 0  # sentinel changes: a new last play, a new period or status
    slow_changes: int = 0  # drive changes and scoring plays
    #: Times the board's last play changed in a way that suggests a play was skipped.
    gaps: int = 0
    last_play_id: str | None = None
    #: When the league scoreboard last showed the game (None: no board; the situation is the
    #: sentinel).
    board_at: datetime | None = None
    _score: object = None
    _status: tuple[object, object] | None = None
    _drive: object = None
    _possession: object = None
    _board_last: BoardLastPlay | None = None

    def state(self, kind: DocumentKind) -> DocumentState:
        """The state of `kind` (created empty)."""
        return self.documents.setdefault(kind, DocumentState())

    def observe(self, events: Iterable[Event]) -> None:
        """Count the changes that `events` (of any document) show."""
        for event in events:
            data = event.data
            if event.type is EventType.SITUATION:
                # With a board, the board's last play is the sentinel: a situation document
                # lagging behind it must not move the last play back.
                last = data.get("last_play_id")
                if self.board_at is None and last != self.last_play_id:
                    self.last_play_id = last
                    self.changes += 1
                if data.get("possession_team_id") != self._possession:
                    self._possession = data.get("possession_team_id")
                    self.slow_changes += 1
            elif event.type is EventType.STATUS:
                status = (data.get("period"), data.get("name"))
                if status != self._status:
                    self._status = status
                    self.changes += 1
                    self.slow_changes += 1
            elif event.type is EventType.SCORE:
                self.slow_changes += 1
            elif (
                event.type is EventType.PLAY_ADDED
                and not data.get("preview")  # a preview does not know its drive
                and data.get("drive_id") != self._drive
            ):
                self._drive = data.get("drive_id")
                self.slow_changes += 1

    def observe_board(
        self,
        last_play: BoardLastPlay | None,
        score: tuple[int | None, int | None],
        at: datetime,
    ) -> None:
        """Count the changes the league scoreboard shows for the game at `at`."""
        self.board_at = at
        if last_play is not None and last_play.id and last_play.id != self.last_play_id:
            if self._skipped(last_play, score):
                self.gaps += 1
            self.last_play_id = last_play.id
            self._board_last = last_play
            self.changes += 1
        if score != self._score:
            self._score = score
            self.slow_changes += 1

    def _skipped(self, last: BoardLastPlay, score: tuple[int | None, int | None]) -> bool:
        """Whether the board's new last play suggests that a play came between it and the
        previous one: it does not start where that one ended (yard line and team), or the
        score moved by more than its value."""
        previous = self._board_last
        if previous is None:
            return False
        ended = previous.end.key if previous.end else None
        starts = last.start.key if last.start else None
        if ended is not None and starts is not None and ended != starts:
            return True
        old = self._score
        if not isinstance(old, tuple) or None in old or None in score:
            return False
        moved = sum(s for s in score if s is not None) - sum(old)
        return moved > last.score_value

    def missed(self, kind: DocumentKind) -> None:
        """A fetch of `kind` failed: its next one reads it whole. What it missed may lie on
        any page (a correction, a removal), not only past the live edge."""
        self.state(kind).last_whole = None

    def outage_over(self) -> None:
        """The game's status was unreadable for a while and reads again: every collection is
        read whole next, so that nothing of the outage window is missed."""
        for kind in EDGE_KINDS:
            self.missed(kind)

    def fetched(
        self,
        kind: DocumentKind,
        mode: FetchMode,
        began: datetime,
        count: int | None,
        caught_up: bool = True,
    ) -> None:
        """Record a successful fetch of `kind` that began at `began`. `caught_up`: it held what
        the sentinel announced (else the next fetch chases it)."""
        state = self.state(kind)
        state.last = began
        if mode is FetchMode.WHOLE:
            state.last_whole = began
        if count is not None:
            state.count = count
        state.slow_seen = self.slow_changes
        state.gaps_seen = self.gaps
        if caught_up:
            state.seen, state.chases = self.changes, 0
        else:
            state.chases += 1


class FetchPolicy(Protocol):
    """Decides when and how each document of a game is fetched."""

    @property
    def name(self) -> str:
        """`edge` or `seed`, as `PRESSBOX_FETCH_POLICY` names it."""
        ...

    @property
    def honors_max_age(self) -> bool:
        """Whether fetches respect the max-age of earlier answers (the seed ignored it)."""
        ...

    @property
    def follows_sentinel(self) -> bool:
        """Whether fetches follow a change sentinel (the league scoreboard, the situation),
        rather than fixed timers: the streamer then reads the board and wakes workers on it."""
        ...

    def plan(self, kind: DocumentKind, view: GameView, now: datetime) -> Fetch:
        """The next fetch of `kind` as things stand at `now`."""
        ...

    def chase_limit(self) -> int:
        """How many fetches may chase a change the sentinel announced."""
        ...


def _since(moment: datetime | None, now: datetime) -> float:
    return float("inf") if moment is None else (now - moment).total_seconds()


def _after(seconds: float, moment: datetime | None, now: datetime) -> float:
    """Seconds from `now` until `seconds` after `moment` (0 if past; 0 if never)."""
    return max(0.0, seconds - _since(moment, now))


def _sooner(whole: float, edge: float) -> Fetch:
    """The whole read if it is due no later than the edge read, else the edge read."""
    if whole <= edge:
        return Fetch(whole, FetchMode.WHOLE)
    return Fetch(edge, FetchMode.EDGE)


@dataclass(frozen=True)
class SeedPolicy:
    """Every document on its fixed cadence, read whole: the seed's request pattern."""

    profile: SportProfile
    name: str = "seed"
    honors_max_age: bool = False
    follows_sentinel: bool = False

    def plan(self, kind: DocumentKind, view: GameView, now: datetime) -> Fetch:
        delay = _after(self.profile.cadence(kind), view.state(kind).last, now)
        return Fetch(delay, FetchMode.WHOLE)

    def chase_limit(self) -> int:
        return 0


@dataclass(frozen=True)
class EdgePolicy:
    """Sentinel first, then the live edge of what changed; whole reads to reconcile."""

    profile: SportProfile
    #: A whole read of each collection this often (corrections and removals on older pages).
    reconcile_every: timedelta = timedelta(minutes=10)
    #: Plays and probabilities are read at least this often, changed or not.
    safety_every: timedelta = timedelta(seconds=60)
    #: Drives and leaders at most this often, and only after a drive change or a scoring play.
    slow_every: timedelta = timedelta(seconds=60)
    #: A whole read of drives at most this often (or every `reconcile_every`, if longer), besides
    #: every break and the end: drives embed their plays, which the plays document reconciles,
    #: and the edge read after each drive change re-reads the drive that just ended.
    drives_reconcile_every: timedelta = timedelta(minutes=30)
    #: With a board: plays and probabilities after changes at most this often when no play
    #: seems skipped (None: 5 minutes for football, whose board shows where each play started
    #: and ended; 1 minute otherwise).
    detail_every: timedelta | None = None
    #: Between two fetches chasing a change the document did not show yet (its max-age).
    chase_every: timedelta = timedelta(seconds=10)
    chases: int = 3
    #: A board that has not shown the game for this long is not relied on: the situation
    #: document is polled on its cadence again.
    board_stale: timedelta = timedelta(seconds=30)
    name: str = "edge"
    honors_max_age: bool = True
    follows_sentinel: bool = True

    def plan(self, kind: DocumentKind, view: GameView, now: datetime) -> Fetch:
        state = view.state(kind)
        board = self._board(view, now)
        if kind is DocumentKind.SITUATION and board:
            # The board carries the situation: look again when it would go stale.
            left = self.board_stale.total_seconds() - _since(view.board_at, now)
            return Fetch(max(left, 1.0), FetchMode.WHOLE)
        if kind in LIVE_KINDS and board:
            return self._behind_board(state, view, now)
        if kind in LIVE_KINDS:
            return self._live(kind, state, view, now)
        if kind in (DocumentKind.DRIVES, DocumentKind.LEADERS):
            return self._slow(kind, state, view, now)
        # The sentinel (situation) and anything else: on its cadence.
        cadence = self.profile.cadences.get(kind, 5.0)
        return Fetch(_after(cadence, state.last, now), FetchMode.WHOLE)

    def chase_limit(self) -> int:
        return self.chases

    def _board(self, view: GameView, now: datetime) -> bool:
        """Whether the league scoreboard is the game's sentinel now."""
        return _since(view.board_at, now) < self.board_stale.total_seconds()

    def _whole_due(self, state: DocumentState, now: datetime, every: timedelta) -> float:
        if state.count is None:
            return 0.0
        return _after(every.total_seconds(), state.last_whole, now)

    def _detail_every(self) -> float:
        if self.detail_every is not None:
            return self.detail_every.total_seconds()
        return 300.0 if self.profile.sport == "football" else 60.0

    def _behind_board(self, state: DocumentState, view: GameView, now: datetime) -> Fetch:
        """Plays or probabilities while the board delivers each new play: read when a play
        seems skipped, else now and then after changes; whole to reconcile."""
        whole = self._whole_due(state, now, self.reconcile_every)
        if view.gaps > state.gaps_seen:
            edge = 0.0
        elif view.changes > state.seen:
            edge = _after(self._detail_every(), state.last, now)
        else:
            edge = whole
        return _sooner(whole, edge)

    def _live(
        self, kind: DocumentKind, state: DocumentState, view: GameView, now: datetime
    ) -> Fetch:
        whole = self._whole_due(state, now, self.reconcile_every)
        if whole == 0:
            return Fetch(0.0, FetchMode.WHOLE)
        if view.changes > state.seen:
            gap = self.chase_every.total_seconds() if state.chases else 0.0
            edge = _after(gap, state.last, now)
        else:
            edge = _after(self.safety_every.total_seconds(), state.last, now)
        return _sooner(whole, edge)

    def _slow(
        self, kind: DocumentKind, state: DocumentState, view: GameView, now: datetime
    ) -> Fetch:
        edge = kind in EDGE_KINDS
        if state.last is None or (edge and state.count is None):
            return Fetch(0.0, FetchMode.WHOLE)
        every = max(self.reconcile_every, self.drives_reconcile_every)
        whole = self._whole_due(state, now, every) if edge else float("inf")
        if view.slow_changes > state.slow_seen:
            due = _after(self.slow_every.total_seconds(), state.last, now)
        else:
            due = _after(self.reconcile_every.total_seconds(), state.last, now)
        if whole <= due:
            return Fetch(whole, FetchMode.WHOLE)
        return Fetch(due, FetchMode.EDGE if edge else FetchMode.WHOLE)


def policy_for(name: str, profile: SportProfile, reconcile_every: timedelta) -> FetchPolicy:
    """The policy named by `PRESSBOX_FETCH_POLICY` (`edge` or `seed`)."""
    if name == "seed":
        return SeedPolicy(profile)
    if name == "edge":
        return EdgePolicy(profile, reconcile_every=reconcile_every)
    raise ValueError(f"unknown fetch policy {name!r}; use edge or seed")
