"""The streamer: one supervisor per game. It polls, tracks, commits, then publishes.

A status loop follows the game (slowly before it, faster during it) and drives the persisted
lifecycle; while the game is live one worker per document fetches it when the fetch policy
(`domain.fetch_policy`) says it is due, and how (whole, or only a collection's live edge). A
sentinel change wakes the workers that wait for one. Every exit path (final, failure,
cancellation, shutdown) cancels and awaits every worker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pressbox import logs
from pressbox.bus import Bus
from pressbox.cancellation import finish
from pressbox.clock import Clock
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import Event, EventType
from pressbox.domain.fetch_policy import (
    EDGE_KINDS,
    EdgePolicy,
    FetchMode,
    FetchPolicy,
    GameView,
)
from pressbox.domain.lifecycle import IllegalTransition, StreamStatus, status_for_phase
from pressbox.domain.market_events import MarketStatus, last_market_status
from pressbox.domain.scoreboard import BoardGame
from pressbox.domain.sports import Phase, SportProfile
from pressbox.domain.tracker import Tracker
from pressbox.errors import (
    HostBlocked,
    LeaseLost,
    PressboxError,
    StoreError,
    UpstreamError,
    UpstreamStatusError,
)
from pressbox.metrics import metrics
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import CacheUse, FetchSkipped, FetchTally, fetch_tally
from pressbox.sources.retry import Backoff
from pressbox.store import Store
from pressbox.streaming.discovery import GameDocuments, discover, rediscover
from pressbox.streaming.market import MarketSource
from pressbox.streaming.sentinel import LeagueBoard, board_day, status_document

log = logging.getLogger(__name__)

COLLECTIONS = frozenset({DocumentKind.PLAYS, DocumentKind.PROBABILITIES, DocumentKind.DRIVES})
#: Halftime and the breaks between periods: nothing but the status changes, so only it is polled.
PAUSE_PHASES = frozenset({Phase.BREAK, Phase.HALFTIME})
#: How often a competition document missing some links is re-read within one phase.
REDISCOVER_EVERY = timedelta(minutes=10)
_IN_GAME = frozenset({StreamStatus.ACTIVE, StreamStatus.PAUSED, StreamStatus.DELAYED})
#: When the status comes from the league scoreboard (if the streamer has one).
_BOARD_STATUSES = frozenset({StreamStatus.AWAITING_START, *_IN_GAME})
#: A due time closer than this is now (a clock that rounds must not make a worker spin).
_NOW = 1e-3
#: Drives and leaders give up their place in a saturated budget after this wait, and try again
#: this much later (counted as skipped): fresher documents go first.
SLOW_MAX_WAIT = 30.0
SLOW_RETRY = 30.0
#: With the league scoreboard as sentinel, the status loop looks at it just after its copy's
#: max-age passes (BOARD_AFTER), at least BOARD_MIN and at most BOARD_EVERY seconds apart.
BOARD_EVERY = 10.0
BOARD_AFTER = 0.1
BOARD_MIN = 1.0
#: After the board failed or lacked the game, it is asked again only this much later; after
#: BOARD_MISSES misses in a row, never again by this streamer (a replay of recorded documents
#: has no board; real ESPN always has one).
BOARD_RETRY = timedelta(minutes=5)
BOARD_MISSES = 3


@dataclass(frozen=True)
class StreamLimits:
    """Safety limits: consecutive failed status polls; how long the game status may stand still
    (not while Delayed: a rain delay waits without timing out); the longest a stream may run."""

    failure_budget: int = 20
    stall_timeout: timedelta = timedelta(hours=3)
    max_duration: timedelta = timedelta(hours=12)


class StreamFailed(PressboxError):
    """Ends a stream as Failed with a reason that is persisted."""


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
        self._market: asyncio.Task[None] | None = None
        self._market_status: MarketStatus | None = None  # the last one logged
        self.tracker = Tracker()
        #: When and how each document is fetched (default: the edge policy).
        self.policy: FetchPolicy = policy or EdgePolicy(profile)
        self.view = GameView()
        #: What this stream asked of upstream (persisted with each lease renewal).
        self.tally = FetchTally()
        #: The league scoreboard as sentinel (edge policy): status, score and last play of the
        #: game without a request of its own. None: the status and situation documents.
        self.board = board if self.policy.follows_sentinel else None
        self._board_day: date | None = None
        self._board_retry: datetime | None = None  # no board before then
        self._board_misses = 0
        self._nudges: dict[DocumentKind, asyncio.Event] = {}
        self.status = StreamStatus.SCHEDULED
        self._health: dict[str, str] = {}
        self._health_lock = asyncio.Lock()
        self._commit_lock = asyncio.Lock()
        self._workers: list[asyncio.Task[None]] = []
        self._began = clock.now()
        self._progressed = clock.now()
        self._catch_up = False
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
        self.status = stream.status
        self._began = stream.started_at or self.clock.now()
        if not (self.status.is_running or self.status is StreamStatus.SCHEDULED):
            return self.status
        logged = await self.store.events_since(self.game_id, 0, limit=1_000_000)
        self.tracker.restore(logged)
        self._market_status = last_market_status(logged)
        # A stream resumed in the game reads every document once at its first pass.
        self._catch_up = bool(logged) and self.status in _IN_GAME
        try:
            try:
                documents = await self._discover()
                await self._start_market()
                await self._follow(documents)
            except StreamFailed as exc:
                await self._move(StreamStatus.FAILED, reason=str(exc))
        except LeaseLost as exc:
            # Taken over (or released) under us: the new holder writes from now on.
            log.warning("game %s: lease lost, stopping: %s", self.game_id, exc)
        finally:
            await self._stop_workers()
            await self._stop_market()
            if self._rediscovery is not None:
                self._rediscovery.cancel()
                await asyncio.gather(self._rediscovery, return_exceptions=True)
        return self.status

    async def _discover(self) -> GameDocuments:
        backoff, failures = Backoff(initial=2.0, cap=60.0), 0
        while True:
            self._check_duration()
            try:
                game, documents = await discover(
                    self.espn, self.profile.sport, self.profile.league, self.game_id
                )
            except UpstreamError as exc:
                # A paused host is not this stream's failure, and before kickoff ESPN may not have
                # published the competition yet (404): the stall and duration limits bound that.
                not_yet = isinstance(exc, UpstreamStatusError) and exc.status == 404
                failures += not (isinstance(exc, HostBlocked) or not_yet)
                await self._degrade("discovery", exc, failures)
                await self.clock.sleep(backoff.next_delay(exc))
                continue
            await self.store.upsert_game(game, self.clock.now())
            if game.start_time is not None:
                self._board_day = board_day(game.start_time)
            await self._recover("discovery")
            if self.status is StreamStatus.SCHEDULED:
                await self._move(StreamStatus.AWAITING_START)
            return documents

    async def _follow(self, documents: GameDocuments) -> None:
        backoff, failures = Backoff(initial=2.0, cap=60.0), 0
        while self.status.is_running:
            started = self.clock.now()
            self._check_duration()
            try:
                changes = await self._poll_status(documents)
            except UpstreamError as exc:
                failures += not isinstance(exc, HostBlocked)  # a paused host is not our failure
                await self._degrade("status", exc, failures)
                await self.clock.sleep(backoff.next_delay(exc))
                continue
            failures = 0
            backoff.reset()
            self.last_poll = self.clock.now()
            await self._recover("status")
            if changes:
                self._progressed = self.clock.now()
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
            if not self._workers:
                self._start_workers(documents)
        elif self._workers or self._catch_up:
            # Halftime, a break, a delay or the end: the document workers stop, and every
            # document is read once more so that nothing of the play before it is lost. A
            # resumed stream does the same once: its last runner may have died before that read.
            await self._stop_workers()
            await self._reconcile(documents)
        self._catch_up = False
        if target is StreamStatus.COMPLETED and self._health:
            self._health.clear()  # a finished stream has nothing left to be degraded about
            await self._save_health()
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
        if self._workers:
            added = {k: v for k, v in fresh.refs.items() if k not in documents.refs}
            self._start_workers(GameDocuments(fresh.status, added))
        return fresh

    def _status_cadence(self, started: datetime) -> float:
        """Seconds from `started` to the next status poll. With a board: just after its copy
        goes stale (every streamer of the league then shares the one request), at most
        BOARD_EVERY."""
        if self.view.board_at is not None and self.status in _BOARD_STATUSES:
            stale = self._board_stale_at()
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
                DocumentKind.STATUS, documents.status, cache=self._cache_use
            )
            return await finish(self._track(status))
        now = self.clock.now()
        before = (self.view.changes, self.view.slow_changes, self.view.gaps)
        self.view.observe_board(game.last_play, (game.home_score, game.away_score), now)
        if (self.view.changes, self.view.slow_changes, self.view.gaps) != before:
            self._nudge()
        changes = await finish(self._track(status_document(game, now)))
        situation = DocumentKind.SITUATION in self.profile.cadences
        events = self.tracker.apply_board(game, now, situation=situation)
        await finish(self._commit_tracked(events))
        return changes + events

    def _board_stale_at(self) -> datetime | None:
        if self.board is None or self._board_day is None:
            return None
        return self.board.stale_at(self.profile.sport, self.profile.league, self._board_day)

    async def _board_game(self) -> BoardGame | None:
        """The game on the league scoreboard from its last minutes before the start to its
        end (a Saturday's noon kickoffs would cost a status request each every 20 s), or
        None."""
        if self.board is None or self._board_day is None or self._board_misses >= BOARD_MISSES:
            return None
        if self.status not in _BOARD_STATUSES:
            return None
        now = self.clock.now()
        if self._board_retry is not None and now < self._board_retry:
            return None
        try:
            game = await self.board.game(
                self.profile.sport, self.profile.league, self._board_day, self.game_id
            )
        except UpstreamError as exc:
            log.info("game %s: no scoreboard (%s); status document instead", self.game_id, exc)
            game = None
        self._board_misses = 0 if game is not None else self._board_misses + 1
        self._board_retry = None if game is not None else now + BOARD_RETRY
        return game

    def _nudge(self) -> None:
        """Wake every worker waiting for a change."""
        for nudge in self._nudges.values():
            nudge.set()

    def _start_workers(self, documents: GameDocuments) -> None:
        for kind, url in documents.refs.items():
            if kind in self.profile.cadences:
                task = asyncio.create_task(self._poll(kind, url), name=f"{self.game_id}:{kind}")
                self._workers.append(task)
                metrics().worker_starts.add(1, {"document": str(kind)})

    async def _stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        for task in workers:
            task.cancel()
        results = await asyncio.gather(*workers, return_exceptions=True)
        for task, result in zip(workers, results, strict=True):
            metrics().worker_stops.add(1, {"document": task.get_name().rpartition(":")[2]})
            if isinstance(result, Exception):
                log.error("worker %s ended with an error", task.get_name(), exc_info=result)

    @property
    def _cache_use(self) -> CacheUse:
        """A policy that honours max-age waits a fresh copy out; the seed always asked."""
        return "wait" if self.policy.honors_max_age else "ignore"

    async def _poll(self, kind: DocumentKind, url: str) -> None:
        """One document's worker: fetch when the policy says, back off on failure, never raise."""
        cadence = self.profile.cadences.get(kind, 10.0)
        backoff = Backoff(initial=cadence, cap=max(60.0, 4 * cadence))
        while True:
            plan = self.policy.plan(kind, self.view, self.clock.now())
            if plan.delay > _NOW:
                await self._wait(kind, plan.delay)
                continue
            try:
                await self._fetch_and_commit(kind, url, plan.mode)
            except FetchSkipped as exc:
                log.info("game %s: %s", self.game_id, exc)
                await self.clock.sleep(SLOW_RETRY)
                continue
            except (UpstreamError, StoreError) as exc:
                await self._degrade(str(kind), exc)
                await self.clock.sleep(backoff.next_delay(exc))
                continue
            backoff.reset()
            await self._recover(str(kind))

    async def _wait(self, kind: DocumentKind, delay: float) -> None:
        """Sleep `delay`, or less if a sentinel change nudges `kind` (seed: never nudged)."""
        if not self.policy.follows_sentinel:
            await self.clock.sleep(delay)
            return
        nudge = self._nudges.setdefault(kind, asyncio.Event())
        nudge.clear()  # the plan just made already saw every change so far
        sleeper = asyncio.ensure_future(self.clock.sleep(delay))
        waker = asyncio.ensure_future(nudge.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _fetch_and_commit(
        self,
        kind: DocumentKind,
        url: str,
        mode: FetchMode = FetchMode.WHOLE,
        cache: CacheUse | None = None,
    ) -> None:
        started = self.clock.now()
        document = await self._fetch(kind, url, mode, cache or self._cache_use)
        began = time.perf_counter()
        await finish(self._track(document))
        metrics().processing.record(time.perf_counter() - began, {"document": str(kind)})
        whole = mode is FetchMode.WHOLE or document.complete
        self.view.fetched(
            kind,
            FetchMode.WHOLE if whole else FetchMode.EDGE,
            started,
            document.count,
            self._caught_up(kind),
        )

    def _caught_up(self, kind: DocumentKind) -> bool:
        """Whether the tracker holds what the sentinel announced for `kind` (the last play, its
        probability), or the policy has chased it long enough."""
        last = self.view.last_play_id
        if last is None or self.view.state(kind).chases + 1 >= self.policy.chase_limit():
            return True
        if kind is DocumentKind.PLAYS:
            return self.tracker.has_play(last)
        if kind is DocumentKind.PROBABILITIES:
            return self.tracker.has_probability(last)
        if kind is DocumentKind.SITUATION:
            return (self.tracker.situation or {}).get("last_play_id") == last
        return True

    async def _track(self, document: Document) -> list[Event]:
        """Apply a document and commit its events. Runs to its end once started (`finish`): the
        tracker remembers what it applied, so a cancellation between the two would lose events."""
        events = self.tracker.apply(document)
        if not events:
            self._count_unchanged(document.kind)
        await self._commit_tracked(events)
        return events

    async def _commit_tracked(self, events: list[Event]) -> None:
        """Let the view count the changes `events` show (waking workers), then commit them."""
        changes = (self.view.changes, self.view.slow_changes)
        self.view.observe(events)
        if (self.view.changes, self.view.slow_changes) != changes:
            self._nudge()
        await self._commit(events)

    def _count_unchanged(self, kind: DocumentKind) -> None:
        self.espn.http.stats.by_kind[str(kind)].unchanged += 1

    async def _fetch(
        self, kind: DocumentKind, url: str, mode: FetchMode, cache: CacheUse
    ) -> Document:
        slow = self.policy.follows_sentinel and kind in (
            DocumentKind.DRIVES,
            DocumentKind.LEADERS,
        )
        max_wait = SLOW_MAX_WAIT if slow else None
        if kind in COLLECTIONS:
            known = self.view.state(kind).count
            if mode is FetchMode.EDGE and kind in EDGE_KINDS and known is not None:
                return await self.espn.edge(kind, url, known, cache=cache, max_wait=max_wait)
            return await self.espn.collection(kind, url, cache=cache, max_wait=max_wait)
        return await self.espn.document(kind, url, cache=cache, max_wait=max_wait)

    async def _reconcile(self, documents: GameDocuments) -> None:
        """When play stops (a break, the final whistle), read every document once more, whole
        (and, when max-age is honoured, not a copy older than the last play)."""
        for kind, url in documents.refs.items():
            try:
                await self._fetch_and_commit(kind, url, FetchMode.WHOLE)
            except (UpstreamError, FetchSkipped) as exc:
                log.warning("final read of %s for game %s failed: %s", kind, self.game_id, exc)

    async def _commit(self, events: Sequence[Event]) -> None:
        """Commit first, then publish what was committed."""
        if not events:
            return
        async with self._commit_lock:
            stored = await self.store.append(self.game_id, events)
            await self.bus.publish(self.game_id, stored)
        counter = metrics().events
        for event in stored:
            counter.add(1, {"type": str(event.type)})

    async def _start_market(self) -> None:
        """Follow the game's market line in a task of its own: nothing it does reaches the
        ESPN side, and its points never count as the game's progress."""
        if self.markets is None or self._market is not None:
            return
        game = await finish(self.store.game(self.game_id))  # a read cut short leaks its connection
        if game is None:
            return
        self._market = asyncio.create_task(
            self._follow_market(self.markets, game), name=f"{self.game_id}:market"
        )

    async def _stop_market(self) -> None:
        market, self._market = self._market, None
        if market is not None:
            market.cancel()
            await asyncio.gather(market, return_exceptions=True)

    async def _follow_market(self, markets: MarketSource, game: dict[str, Any]) -> None:
        """Commit the market events of `markets`; a failure of the follower (or of a commit)
        is logged and the follower starts again after a backoff, never ending the stream."""
        backoff = Backoff(initial=5.0, cap=300.0)
        while True:
            try:
                async with aclosing(markets.follow(game, self._in_play)) as events:
                    async for event in events:
                        await self._commit_market(event)
                        backoff.reset()
                return  # the source has nothing to follow
            except Exception:
                log.exception("game %s: the market follower failed; restarting", self.game_id)
            await self.clock.sleep(backoff.next_delay())

    async def _commit_market(self, event: Event) -> None:
        """Commit a market event; a `market_status` only when it changes the last logged one."""
        if event.type is EventType.MARKET_STATUS:
            status = MarketStatus.from_json(event.data)
            if not status.changes(self._market_status):
                return
            await self._commit([event])
            self._market_status = status
            return
        await self._commit([event])

    def _in_play(self) -> bool:
        return self.status in _IN_GAME

    async def _move(self, target: StreamStatus, reason: str | None = None) -> None:
        if target is self.status:
            return
        try:
            record = await self.store.move_stream(
                self.game_id, target, self.clock.now(), reason, owner=self.owner
            )
        except IllegalTransition as exc:
            # Someone else moved the stream (an operator canceled it): the row is the truth.
            found = await self.store.stream(self.game_id)
            log.warning("game %s: not moved to %s: %s; the row is kept", self.game_id, target, exc)
            self.status = found.status if found else self.status
            return
        log.info("game %s stream %s -> %s %s", self.game_id, self.status, target, reason or "")
        self.status = record.status

    def _check_duration(self) -> None:
        now = self.clock.now()
        if now - self._began > self.limits.max_duration:
            raise StreamFailed(f"stream ran longer than the limit of {self.limits.max_duration}")
        stalled = now - self._progressed
        if stalled > self.limits.stall_timeout and self.status is not StreamStatus.DELAYED:
            raise StreamFailed(f"game status has not changed for {stalled}; stopped watching")

    async def _degrade(self, what: str, exc: PressboxError, failures: int = 0) -> None:
        log.warning("game %s: %s failed (%d in a row): %s", self.game_id, what, failures, exc)
        message = str(exc)[:200]
        if self._health.get(what) != message:
            self._health[what] = message
            await self._save_health()
        if failures >= self.limits.failure_budget:
            raise StreamFailed(f"{what} failed {failures} times in a row; last error: {exc}")

    async def _recover(self, what: str) -> None:
        if self._health.pop(what, None) is not None:
            await self._save_health()

    async def _save_health(self) -> None:
        """Persist the health as it is now. Workers change it concurrently: the writes queue in
        order and run to their end even if their worker is cancelled, and each writes the state
        at its turn, so the row always ends with the latest one."""

        async def write() -> None:
            async with self._health_lock:
                health = dict(self._health)
                await self.store.set_stream_health(self.game_id, health, self.clock.now())

        await finish(write())

    async def _sleep_rest(self, started: datetime, cadence: float) -> None:
        """Sleep what is left of `cadence` after the work since `started`."""
        elapsed = (self.clock.now() - started).total_seconds()
        await self.clock.sleep(max(0.0, cadence - elapsed))
