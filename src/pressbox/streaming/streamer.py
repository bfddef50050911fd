"""The streamer: one supervisor per game. It polls, tracks, commits, then publishes.

A status loop follows the game (slowly before it, faster during it) and drives the persisted
lifecycle; while the game is live the document workers (`streaming.workers`: one per document,
fetching it when the fetch policy says) run, and a sentinel change wakes those that wait for one.
The game's market line is followed by a task of its own (`streaming.market_follower`). Every exit
path (final, failure, cancellation, shutdown) cancels and awaits every worker and the follower.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pressbox import logs
from pressbox.bus import Bus
from pressbox.cancellation import finish
from pressbox.clock import Clock
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import Event
from pressbox.domain.failure import Failure, FailureJudge, FailureLimits
from pressbox.domain.fetch_policy import EdgePolicy, FetchPolicy, GameView
from pressbox.domain.lifecycle import IllegalTransition, StreamStatus, status_for_phase
from pressbox.domain.scoreboard import BoardGame
from pressbox.domain.sports import Phase, SportProfile
from pressbox.domain.tracker import Tracker
from pressbox.errors import (
    LeaseLost,
    PressboxError,
    UpstreamError,
    UpstreamStatusError,
)
from pressbox.metrics import metrics
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import FetchTally, fetch_tally
from pressbox.sources.retry import Backoff
from pressbox.store import Store
from pressbox.streaming.discovery import GameDocuments, discover, rediscover
from pressbox.streaming.health import StreamHealth
from pressbox.streaming.market import MarketSource
from pressbox.streaming.market_follower import MarketFollower
from pressbox.streaming.sentinel import BoardWatch, LeagueBoard, board_day, status_document
from pressbox.streaming.workers import DocumentWorkers

log = logging.getLogger(__name__)

#: Halftime and the breaks between periods: nothing but the status changes, so only it is polled.
PAUSE_PHASES = frozenset({Phase.BREAK, Phase.HALFTIME})
#: How often a competition document missing some links is re-read within one phase.
REDISCOVER_EVERY = timedelta(minutes=10)
_IN_GAME = frozenset({StreamStatus.ACTIVE, StreamStatus.PAUSED, StreamStatus.DELAYED})
#: Where a game has been played, at least in part: a stream that first sees its game in one of
#: these reads every document once (not Delayed: a start put back has nothing to read yet).
_PLAYED = frozenset({StreamStatus.PAUSED, StreamStatus.COMPLETED})
#: When the status comes from the league scoreboard (if the streamer has one).
_BOARD_STATUSES = frozenset({StreamStatus.AWAITING_START, *_IN_GAME})
#: With the league scoreboard as sentinel, the status loop looks at it just after its copy's
#: max-age passes (BOARD_AFTER), at least BOARD_MIN and at most BOARD_EVERY seconds apart.
BOARD_EVERY = 10.0
BOARD_AFTER = 0.1
BOARD_MIN = 1.0


@dataclass(frozen=True)
class StreamLimits:
    """When a stream ends Failed (`domain.failure`: the hard cap; a standing status while ESPN
    answers, not while Delayed), and the longest wait between two attempts at a failing read:
    upstream errors only degrade a stream, which probes with jittered backoff up to this cap."""

    stall_timeout: timedelta = timedelta(hours=3)
    max_duration: timedelta = timedelta(hours=12)
    retry_cap: float = 60.0

    @property
    def failure(self) -> FailureLimits:
        """The limits the failure judgement applies."""
        return FailureLimits(self.stall_timeout, self.max_duration)


class StreamFailed(PressboxError):
    """Ends a stream as Failed with a reason (and its cause) that are persisted."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class Streamer:
    """Follows one game from its stream row to Completed or Failed."""

    def __init__(
        self,
        game_id: str,
        profile: SportProfile,
        espn: EspnClient,
        store: Store,
        bus: Bus,
        clock: Clock,
        limits: StreamLimits | None = None,
        owner: str | None = None,
        markets: MarketSource | None = None,
        policy: FetchPolicy | None = None,
        board: LeagueBoard | None = None,
    ) -> None:
        self.game_id = game_id
        #: The lease owner this streamer runs for: its lifecycle writes require the lease.
        self.owner = owner
        self.profile = profile
        self.espn = espn
        self.store = store
        self.bus = bus
        self.clock = clock
        self.limits = limits or StreamLimits()
        #: The game's market line (None: markets off); followed by a task of its own.
        self.markets = markets
        self.market_follower = MarketFollower(
            game_id, markets, store, clock, commit=self._commit, in_play=self._in_play
        )
        self.tracker = Tracker()
        #: When and how each document is fetched (default: the edge policy).
        self.policy: FetchPolicy = policy or EdgePolicy(profile)
        self.view = GameView()
        #: What this stream asked of upstream (persisted with each lease renewal).
        self.tally = FetchTally()
        #: The league scoreboard as sentinel (edge policy): status, score and last play of the
        #: game without a request of its own. None: the status and situation documents.
        self.board = board if self.policy.follows_sentinel else None
        self._board_watch = BoardWatch(self.board, profile.sport, profile.league, game_id)
        self.status = StreamStatus.SCHEDULED
        #: What of the stream fails now (persisted; the workers change it too).
        self.health = StreamHealth(game_id, store, clock)
        self._commit_lock = asyncio.Lock()
        #: The document workers (the status loop starts and stops them).
        self.workers = DocumentWorkers(
            game_id,
            profile,
            espn,
            clock,
            self.policy,
            self.view,
            self.tracker,
            track=self._track,
            degrade=self._degrade,
            recover=self.health.recover,
            retry_cap=self.limits.retry_cap,
        )
        #: When the stream would end Failed (reset when `run` reads the stream's start).
        self.judge = FailureJudge.starting(self.limits.failure, clock.now(), clock.now())
        self._start: datetime | None = None  # the game's scheduled start, once discovered
        self._catch_up = False
        self._read = False  # whether the documents were read: workers started, or a reconcile
        self._rediscovered: tuple[datetime, Phase | None] | None = None  # when, in which phase
        #: A competition re-read under way: in a task, so that a saturated budget (where it
        #: queues last) does not hold up the status loop and its board.
        self._rediscovery: asyncio.Task[GameDocuments] | None = None
        self.last_poll: datetime | None = None  # the last successful status poll
        #: Phases in which the document workers stop (the status loop goes on). Empty: the
        #: seed's behaviour, polling every document through breaks (`bench/pause.py`).
        self.pause_phases: frozenset[Phase] = PAUSE_PHASES

    async def run(self) -> StreamStatus:
        """Follow the game until the stream leaves the running states; returns where it ended
        (Completed, Failed, Canceled, or Postponed for the scheduler to pick up again)."""
        logs.game_id.set(self.game_id)
        fetch_tally.set(self.tally)  # the workers' tasks, created below, inherit it
        stream = await self.store.stream(self.game_id)
        if stream is None:
            raise PressboxError(f"game {self.game_id} has no stream")
        self.tally.resume(stream.fetches)
        self.status = stream.status
        now = self.clock.now()
        self.judge = FailureJudge.starting(self.limits.failure, stream.started_at or now, now)
        if not (self.status.is_running or self.status is StreamStatus.SCHEDULED):
            return self.status
        logged = await self.store.events_since(self.game_id, 0, limit=1_000_000)
        self.tracker.restore(logged)
        self.market_follower.restore(logged)
        # A stream resumed in the game reads every document once at its first pass.
        self._catch_up = bool(logged) and self.status in _IN_GAME
        try:
            try:
                documents = await self._discover()
                await self.market_follower.start()
                await self._follow(documents)
            except StreamFailed as exc:
                failure = exc.failure
                await self._move(StreamStatus.FAILED, failure.reason, str(failure.cause))
        except LeaseLost as exc:
            # Taken over (or released) under us: the new holder writes from now on.
            log.warning("game %s: lease lost, stopping: %s", self.game_id, exc)
        finally:
            await self.workers.stop()
            # A Completed stream stopped its follower (with the final read) before the move.
            await self.market_follower.stop()
            if self._rediscovery is not None:
                self._rediscovery.cancel()
                await asyncio.gather(self._rediscovery, return_exceptions=True)
        return self.status

    async def _discover(self) -> GameDocuments:
        backoff = Backoff(initial=2.0, cap=self.limits.retry_cap)
        while True:
            self._judge()
            try:
                game, documents = await discover(
                    self.espn, self.profile.sport, self.profile.league, self.game_id
                )
            except UpstreamError as exc:
                # Before kickoff ESPN may not have published the competition yet (404): an
                # answer, not an outage (the stall bounds it); anything else is an outage.
                if isinstance(exc, UpstreamStatusError) and exc.status == 404:
                    self.judge.answered(self.clock.now(), changed=False)
                else:
                    self.judge.failed(self.clock.now())
                await self._degrade("discovery", exc)
                await self.clock.sleep(backoff.next_delay(exc))
                continue
            self.judge.answered(self.clock.now(), changed=False)
            await self.store.upsert_game(game, self.clock.now())
            if game.start_time is not None:
                self._start = game.start_time
                self._board_watch.day = board_day(game.start_time)
            await self.health.recover("discovery")
            if self.status is StreamStatus.SCHEDULED:
                await self._move(StreamStatus.AWAITING_START)
            return documents

    async def _follow(self, documents: GameDocuments) -> None:
        backoff = Backoff(initial=2.0, cap=self.limits.retry_cap)
        while self.status.is_running:
            started = self.clock.now()
            self._judge()
            try:
                changes = await self._poll_status(documents)
            except UpstreamError as exc:
                self.judge.failed(self.clock.now())
                await self._degrade("status", exc)
                await self.clock.sleep(backoff.next_delay(exc))
                continue
            backoff.reset()
            self.last_poll = self.clock.now()
            if self.judge.answered(self.last_poll, changed=bool(changes)) is not None:
                # Whatever happened in the outage may lie on any page: read it all again.
                self.view.outage_over()
                self.workers.nudge()
            await self.health.recover("status")
            documents = self._rediscovered_documents(documents)
            if changes and self._rediscovery is None and self._should_rediscover(documents):
                self._rediscovery = asyncio.create_task(
                    self._rediscover(documents), name=f"{self.game_id}:rediscover"
                )
            await self._on_phase(documents)
            await self._sleep_rest(started, self._status_cadence(started))

    async def _on_phase(self, documents: GameDocuments) -> None:
        phase = self.tracker.phase or Phase.UNKNOWN
        target = status_for_phase(self.status, phase)
        polling = target is StreamStatus.PAUSED and phase not in self.pause_phases
        if target is StreamStatus.ACTIVE or polling:
            if not self.workers.running:
                self.workers.start(documents)
                self._read = True
        elif self.workers.running or self._catch_up or (target in _PLAYED and not self._read):
            # Halftime, a break, a delay or the end: the document workers stop, and every
            # document is read once more so that nothing of the play before it is lost. A
            # resumed stream does the same once: its last runner may have died before that read;
            # so does a stream that first sees its game in a break or over (it started late).
            await self.workers.stop()
            await self.workers.reconcile(documents)
            self._read = True
        self._catch_up = False
        if target is StreamStatus.COMPLETED:
            # The market's last points are committed before the stream is Completed, so that a
            # Completed stream's log is final (a reader of `ended_at` sees every event).
            await self.market_follower.stop(final=True)
            await self.health.clear()  # a finished stream has nothing left to be degraded about
        await self._move(target)

    def _should_rediscover(self, documents: GameDocuments) -> bool:
        """A link is missing: look again when the phase changed since the last look, or after
        REDISCOVER_EVERY (a document ESPN never publishes, such as leaders of some games, must
        not cost a competition read at every status change)."""
        if set(self.profile.cadences) <= set(documents.refs):
            return False
        last = self._rediscovered
        return (
            last is None
            or last[1] != self.tracker.phase
            or self.clock.now() - last[0] >= REDISCOVER_EVERY
        )

    def _rediscovered_documents(self, documents: GameDocuments) -> GameDocuments:
        """The links a finished competition re-read found, else `documents`."""
        task = self._rediscovery
        if task is None or not task.done():
            return documents
        self._rediscovery = None
        if task.cancelled() or task.exception() is not None:
            return documents
        return task.result()

    async def _rediscover(self, documents: GameDocuments) -> GameDocuments:
        """Pick up links the competition document did not have before; start their workers."""
        self._rediscovered = (self.clock.now(), self.tracker.phase)
        try:
            fresh = await rediscover(
                self.espn, self.profile.sport, self.profile.league, self.game_id
            )
        except UpstreamError as exc:
            log.info("game %s: competition re-read failed: %s", self.game_id, exc)
            return documents
        if self.workers.running:
            added = {k: v for k, v in fresh.refs.items() if k not in documents.refs}
            self.workers.start(GameDocuments(fresh.status, added))
        return fresh

    def _status_cadence(self, started: datetime) -> float:
        """Seconds from `started` to the next status poll. With a board: just after its copy
        goes stale (every streamer of the league then shares the one request), at most
        BOARD_EVERY."""
        if self.view.board_at is not None and self.status in _BOARD_STATUSES:
            stale = self._board_watch.stale_at()
            if stale is None:
                return BOARD_EVERY
            wait = (stale - started).total_seconds() + BOARD_AFTER
            return min(max(wait, BOARD_MIN), BOARD_EVERY)
        if self.status in (StreamStatus.ACTIVE, StreamStatus.PAUSED):
            return self.profile.status_cadence_live
        return self.profile.status_cadence_pregame

    async def _poll_status(self, documents: GameDocuments) -> list[Event]:
        """Read the game's status and commit what changed: from the league scoreboard when it
        shows the game (which also feeds the sentinel and brings the last play, its
        probability, the score and the situation), else from the status document. Reading a
        body can fail too (UpstreamDataError): a failed poll, not a crash."""
        game = await self._board_game()
        if game is None:
            self.view.board_at = None
            status = await self.espn.document(
                DocumentKind.STATUS, documents.status, cache=self.workers.cache_use
            )
            return await finish(self._track(status))
        now = self.clock.now()
        before = (self.view.changes, self.view.slow_changes, self.view.gaps)
        self.view.observe_board(game.last_play, (game.home_score, game.away_score), now)
        if (self.view.changes, self.view.slow_changes, self.view.gaps) != before:
            self.workers.nudge()
        changes = await finish(self._track(status_document(game, now)))
        situation = DocumentKind.SITUATION in self.profile.cadences
        return changes + await finish(self._track_board(game, now, situation))

    async def _board_game(self) -> BoardGame | None:
        """The game on the league scoreboard from its last minutes before the start to its
        end (a Saturday's noon kickoffs would cost a status request each every 20 s), or
        None."""
        if self.status not in _BOARD_STATUSES:
            return None
        return await self._board_watch.game(self.clock.now())

    async def _track(self, document: Document) -> list[Event]:
        """Apply a document and commit its events. Runs to its end once started (`finish`): the
        tracker remembers what it applied, so a cancellation between the two would lose events."""
        async with self._commit_lock:
            events = self.tracker.apply(document)
            if not events:
                self.espn.http.stats.by_kind[str(document.kind)].unchanged += 1
            await self._commit_tracked(events)
        return events

    async def _track_board(self, game: BoardGame, now: datetime, situation: bool) -> list[Event]:
        """Apply what the scoreboard shows of the game beyond its status, and commit it (under
        `finish`, as `_track`)."""
        async with self._commit_lock:
            events = self.tracker.apply_board(game, now, situation=situation)
            await self._commit_tracked(events)
        return events

    async def _commit_tracked(self, events: list[Event]) -> None:
        """Let the view count the changes `events` show (waking workers), then commit them.

        The caller holds the commit lock from the tracker's apply to here: events reach the log
        in the order the tracker made them. A play's `before` names a play the tracker knew;
        committed ahead of that play's own event, the play would go to the end of the game
        order (seen: the board's preview applied, then a plays read applied and committed
        while the preview waited for the lock)."""
        changes = (self.view.changes, self.view.slow_changes)
        self.view.observe(events)
        if (self.view.changes, self.view.slow_changes) != changes:
            self.workers.nudge()
        await self._append(events)

    async def _commit(self, events: Sequence[Event]) -> None:
        """Commit events the tracker did not make (the market's)."""
        async with self._commit_lock:
            await self._append(events)

    async def _append(self, events: Sequence[Event]) -> None:
        """Commit first, then publish what was committed (the commit lock held)."""
        if not events:
            return
        stored = await self.store.append(self.game_id, events)
        await self.bus.publish(self.game_id, stored)
        counter = metrics().events
        for event in stored:
            counter.add(1, {"type": str(event.type)})

    def _in_play(self) -> bool:
        return self.status in _IN_GAME

    async def _move(
        self, target: StreamStatus, reason: str | None = None, cause: str | None = None
    ) -> None:
        if target is self.status:
            return
        try:
            record = await self.store.move_stream(
                self.game_id, target, self.clock.now(), reason, owner=self.owner, cause=cause
            )
        except IllegalTransition as exc:
            # Someone else moved the stream (an operator canceled it): the row is the truth.
            found = await self.store.stream(self.game_id)
            log.warning("game %s: not moved to %s: %s; the row is kept", self.game_id, target, exc)
            self.status = found.status if found else self.status
            return
        log.info("game %s stream %s -> %s %s", self.game_id, self.status, target, reason or "")
        self.status = record.status

    def _judge(self) -> None:
        """End the stream Failed if the failure judgement says so (`domain.failure`)."""
        failure = self.judge.verdict(self.clock.now(), self.tracker.phase, self._start)
        if failure is not None:
            raise StreamFailed(failure)

    async def _degrade(self, what: str, exc: PressboxError) -> None:
        """Record a failed read in the stream's health: it is degraded, never ended, by it."""
        await self.health.degrade(what, exc)

    async def _sleep_rest(self, started: datetime, cadence: float) -> None:
        """Sleep what is left of `cadence` after the work since `started`."""
        elapsed = (self.clock.now() - started).total_seconds()
        await self.clock.sleep(max(0.0, cadence - elapsed))
