"""The scheduler: finds the configured leagues' games on ESPN's scoreboards and keeps one stream
per game scheduled at start - lead. Thin I/O glue around `domain.schedule.plan_schedule`.

Each run fetches every league's scoreboard for today .. today + `days_ahead` (US Eastern dates,
as ESPN's boards are), plans against the stored games and streams, and applies the plan in one
transaction per league. A league whose scoreboard cannot be read is reported and skipped; the
others go on (planning only ever acts on games a board lists, so a partial read is safe).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pressbox.clock import format_time
from pressbox.domain.schedule import (
    Action,
    Change,
    SchedulePolicy,
    StreamWrite,
    count_changes,
    plan_schedule,
    scoreboard_days,
)
from pressbox.domain.scoreboard import BoardGame
from pressbox.domain.sports import profile_for
from pressbox.errors import PressboxError
from pressbox.store.scheduling import ScheduleStore

if TYPE_CHECKING:
    from pressbox.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Done:
    """One change the scheduler made: to which game, what, and for streams, the time set."""

    league: str
    game_id: str
    game: str
    change: Change
    scheduled_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """This change as JSON."""
        at = self.scheduled_at and format_time(self.scheduled_at)
        return {"league": self.league, "game_id": self.game_id, "game": self.game,
                "change": str(self.change), "scheduled_at": at}  # fmt: skip


@dataclass
class LeagueReport:
    """What one league's run saw and did."""

    league: str
    days: list[date]
    events: int = 0
    skipped: int = 0
    done: list[Done] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[Change, int]:
        """Changes made, by kind (every kind, zeros included)."""
        counts = dict.fromkeys(Change, 0)
        for item in self.done:
            counts[item.change] += 1
        return counts


@dataclass
class ScheduleReport:
    """What one scheduler run did, league by league."""

    at: datetime
    leagues: list[LeagueReport]

    @property
    def counts(self) -> dict[Change, int]:
        """Changes made in every league, by kind."""
        total = dict.fromkeys(Change, 0)
        for league in self.leagues:
            for change, count in league.counts.items():
                total[change] += count
        return total

    @property
    def changed(self) -> int:
        """How many changes the run made in all."""
        return sum(len(league.done) for league in self.leagues)

    @property
    def failed(self) -> bool:
        """Whether some scoreboard or write failed."""
        return any(league.errors for league in self.leagues)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (for logs and operators)."""
        return {
            "at": format_time(self.at),
            "counts": {str(change): n for change, n in self.counts.items()},
            "leagues": [
                {
                    "league": r.league,
                    "days": [d.isoformat() for d in r.days],
                    "events": r.events,
                    "skipped": r.skipped,
                    "errors": r.errors,
                    "done": [d.to_json() for d in r.done],
                }
                for r in self.leagues
            ],
        }


class Scheduler:
    """Keeps the configured leagues' games and their streams in line with ESPN's scoreboards.

    Raises:
        ValueError: a league Pressbox does not support, or a negative `days_ahead`.
    """

    def __init__(
        self,
        runtime: Runtime,
        leagues: Sequence[str],
        days_ahead: int,
        policy: SchedulePolicy | None = None,
    ) -> None:
        self.profiles = [profile_for(league) for league in dict.fromkeys(leagues)]
        if days_ahead < 0:
            raise ValueError(f"days_ahead must be 0 or more, got {days_ahead}")
        settings = runtime.settings
        self.policy = policy or SchedulePolicy(
            lead=timedelta(minutes=settings.schedule_lead_minutes),
            tolerance=timedelta(minutes=settings.schedule_move_minutes),
            max_retries=settings.max_retries,
        )
        self.days_ahead = days_ahead
        self.clock = runtime.clock
        self.scoreboards = runtime.scoreboards
        self.store = ScheduleStore(runtime.store)

    async def run_once(self, now: datetime | None = None) -> ScheduleReport:
        """One pass over every league: fetch, plan, apply; returns what changed."""
        now = now or self.clock.now()
        days = scoreboard_days(now, self.days_ahead)
        reports = []
        for profile in self.profiles:
            report = LeagueReport(profile.league, days)
            try:
                await self._league(profile.sport, profile.league, report)
            except PressboxError as exc:
                report.errors.append(str(exc))
                log.warning("scheduling %s failed: %s", profile.league, exc)
            reports.append(report)
        return ScheduleReport(now, reports)

    async def _league(self, sport: str, league: str, report: LeagueReport) -> None:
        board = await self._board(sport, league, report)
        known_games, known_streams = await self.store.known([game.id for game in board])
        plan = plan_schedule(board, known_games, known_streams, self.policy)
        if not plan:
            return
        applied = await self.store.apply(plan, self.clock.now())
        report.done = [_done(league, plan.names, action) for action in applied]
        for done in report.done:
            if done.change is Change.STREAM_RESUMED:
                log.warning(
                    "stream %s (%s) resumed: it ended Failed for the upstream, and its game "
                    "is live on the scoreboard",
                    done.game_id,
                    done.game,
                )
        counts = {str(k): v for k, v in count_changes(applied).items() if v}
        log.info("scheduled %s: %s", league, counts or "nothing changed")

    async def _board(self, sport: str, league: str, report: LeagueReport) -> list[BoardGame]:
        games: list[BoardGame] = []
        for day in report.days:
            try:
                board = await self.scoreboards.day(sport, league, day)
            except PressboxError as exc:
                report.errors.append(f"{day}: {exc}")
                log.warning("%s scoreboard of %s not read: %s", league, day, exc)
                continue
            games.extend(board.games)
            report.events += len(board.games)
            report.skipped += board.skipped
        return games

    async def run_forever(self, interval: float) -> None:
        """Run every `interval` seconds of the clock (the work time subtracted) until cancelled;
        a failed run is logged and the next one tries again."""
        while True:
            started = self.clock.now()
            try:
                await self.run_once(started)
            except PressboxError as exc:  # run_once reports league failures; this is a guard
                log.warning("scheduler run failed: %s", exc)
            elapsed = (self.clock.now() - started).total_seconds()
            await self.clock.sleep(max(0.0, interval - elapsed))


def _done(league: str, names: Mapping[str, str], action: Action) -> Done:
    at = action.scheduled_at if isinstance(action, StreamWrite) else None
    return Done(league, action.game_id, names.get(action.game_id, ""), action.change, at)
