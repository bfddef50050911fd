"""A game's document workers: while the game is live, one task per document fetches it when the
fetch policy (`domain.fetch_policy`) says it is due, and how (whole, or only a collection's live
edge), then hands it to the streamer to apply and commit. A sentinel change (`nudge`) wakes the
workers that wait for one. `stop` cancels and awaits every worker; `reconcile` reads every
document once more, whole, when play stops.

The streamer owns one `DocumentWorkers` and gives it what it needs explicitly: the game's
profile, client, clock, policy, view and tracker, and three callbacks (`track`: apply and commit
a document; `degrade` and `recover`: the stream's health).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from pressbox.cancellation import finish
from pressbox.clock import Clock
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import Event
from pressbox.domain.fetch_policy import EDGE_KINDS, FetchMode, FetchPolicy, GameView
from pressbox.domain.sports import SportProfile
from pressbox.domain.tracker import Tracker
from pressbox.errors import PressboxError, StoreError, UpstreamError, UpstreamStatusError
from pressbox.metrics import metrics
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import CacheUse, FetchSkipped
from pressbox.sources.retry import Backoff
from pressbox.streaming.discovery import GameDocuments

log = logging.getLogger(__name__)

COLLECTIONS = frozenset({DocumentKind.PLAYS, DocumentKind.PROBABILITIES, DocumentKind.DRIVES})
#: A due time closer than this is now (a clock that rounds must not make a worker spin).
_NOW = 1e-3
#: Drives and leaders give up their place in a saturated budget after this wait, and try again
#: this much later (counted as skipped): fresher documents go first.
SLOW_MAX_WAIT = 30.0
SLOW_RETRY = 30.0

#: Applies a document and commits its events (the streamer's `_track`).
Track = Callable[[Document], Awaitable[list[Event]]]
#: Records that `what` failed with the error in the stream's health (the streamer's `_degrade`).
Degrade = Callable[[str, PressboxError], Awaitable[None]]
#: Clears `what` from the stream's health (the streamer's `_recover`).
Recover = Callable[[str], Awaitable[None]]


class DocumentWorkers:
    """The document workers of one game: started and stopped by the streamer's status loop."""

    def __init__(
        self,
        game_id: str,
        profile: SportProfile,
        espn: EspnClient,
        clock: Clock,
        policy: FetchPolicy,
        view: GameView,
        tracker: Tracker,
        *,
        track: Track,
        degrade: Degrade,
        recover: Recover,
        retry_cap: float = 60.0,
    ) -> None:
        self.game_id = game_id
        self.profile = profile
        self.espn = espn
        self.clock = clock
        self.policy = policy
        self.view = view
        self.tracker = tracker
        self._track = track
        self._degrade = degrade
        self._recover = recover
        #: The longest wait between two attempts of a failing document (or its cadence).
        self.retry_cap = retry_cap
        self._nudges: dict[DocumentKind, asyncio.Event] = {}
        self._workers: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        """Whether any worker was started and not stopped since."""
        return bool(self._workers)

    @property
    def cache_use(self) -> CacheUse:
        """A policy that honours max-age waits a fresh copy out; the seed always asked."""
        return "wait" if self.policy.honors_max_age else "ignore"

    def nudge(self) -> None:
        """Wake every worker waiting for a change."""
        for nudge in self._nudges.values():
            nudge.set()

    def start(self, documents: GameDocuments) -> None:
        """Start a worker for each document of `documents` the profile has a cadence for. The
        tasks inherit the caller's context (its log game id and fetch tally)."""
        for kind, url in documents.refs.items():
            if kind in self.profile.cadences:
                task = asyncio.create_task(self._poll(kind, url), name=f"{self.game_id}:{kind}")
                self._workers.append(task)
                metrics().worker_starts.add(1, {"document": str(kind)})

    async def stop(self) -> None:
        """Cancel and await every worker."""
        workers, self._workers = self._workers, []
        for task in workers:
            task.cancel()
        results = await asyncio.gather(*workers, return_exceptions=True)
        for task, result in zip(workers, results, strict=True):
            metrics().worker_stops.add(1, {"document": task.get_name().rpartition(":")[2]})
            if isinstance(result, Exception):
                log.error("worker %s ended with an error", task.get_name(), exc_info=result)

    async def _poll(self, kind: DocumentKind, url: str) -> None:
        """One document's worker: fetch when the policy says, back off on failure (and read the
        document whole once it answers again), never raise."""
        cadence = self.profile.cadences.get(kind, 10.0)
        backoff = Backoff(initial=min(cadence, self.retry_cap), cap=max(self.retry_cap, cadence))
        while True:
            plan = self.policy.plan(kind, self.view, self.clock.now())
            if plan.delay > _NOW:
                await self._wait(kind, plan.delay)
                continue
            try:
                await self.fetch_and_commit(kind, url, plan.mode)
            except FetchSkipped as exc:
                log.info("game %s: %s", self.game_id, exc)
                await self.clock.sleep(SLOW_RETRY)
                continue
            except (UpstreamError, StoreError) as exc:
                self.view.missed(kind)
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

    async def fetch_and_commit(
        self,
        kind: DocumentKind,
        url: str,
        mode: FetchMode = FetchMode.WHOLE,
        cache: CacheUse | None = None,
    ) -> None:
        """Fetch `kind` as `mode` says, apply and commit it (to its end once applied: `finish`),
        and tell the view what was fetched."""
        started = self.clock.now()
        document = await self._fetch(kind, url, mode, cache or self.cache_use)
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

    async def reconcile(self, documents: GameDocuments) -> None:
        """When play stops (a break, the final whistle), read every document once more, whole
        (and, when max-age is honoured, not a copy older than the last play)."""
        for kind, url in documents.refs.items():
            try:
                await self.fetch_and_commit(kind, url, FetchMode.WHOLE)
            except UpstreamStatusError as exc:
                # A 404 here is a document the feed has not published (leaders, often).
                level = logging.INFO if exc.status == 404 else logging.WARNING
                log.log(level, "final read of %s for game %s failed: %s", kind, self.game_id, exc)
            except (UpstreamError, FetchSkipped) as exc:
                log.warning("final read of %s for game %s failed: %s", kind, self.game_id, exc)
