"""Play, probability and drive items of a recorded game, and the `$ref` links they carry.

Items are built once per game in ESPN's core-API item shapes and sliced per moment by
`synthesis.GameDocuments`. Every link is an absolute
`http://sports.core.api.espn.com/v2/...?lang=en&region=us` `$ref`, as in real documents, so a
client rebases it onto whatever host it talks to. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from datetime import UTC
from functools import cached_property
from typing import Any

from pressbox.clock import format_time
from pressbox.replay.record import PlayRecord, Position, ProbabilityRecord
from pressbox.replay.timeline import (
    DriveAt,
    GameTimeline,
    Moment,
    Stage,
    clock_seconds,
    is_period_end,
    is_timeout,
    ordinal,
    season_year,
)

CORE_API = "http://sports.core.api.espn.com/v2/sports"
REF_QUERY = "?lang=en&region=us"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000


#: ESPN's numeric ids behind `uid`s ("s:20~l:23~e:401628334").
SPORT_UIDS = {"football": "20", "basketball": "40"}
LEAGUE_UIDS = {
    "college-football": "23",
    "nfl": "28",
    "nba": "46",
    "wnba": "59",
    "mens-college-basketball": "41",
    "womens-college-basketball": "54",
}

#: Football play-type abbreviations as ESPN sends them (types without one in ESPN are left out).
FOOTBALL_ABBREVIATIONS = {
    "End Period": "EP",
    "End of Half": "EH",
    "End of Game": "EG",
    "Timeout": "TO",
    "Official Timeout": "Off TO",
    "Pass Reception": "REC",
    "Rush": "RUSH",
    "Punt": "PUNT",
    "Kickoff": "K",
    "Field Goal Good": "FG",
    "Field Goal Missed": "FGM",
    "Passing Touchdown": "TD",
    "Rushing Touchdown": "TD",
    "Penalty": "PEN",
    "Pass Interception Return": "INTR",
}

#: Play types a drive's `offensivePlays` leaves out (kickoffs, punts and their returns too).
_NOT_OFFENSIVE = frozenset({"timeout", "official timeout", "coin toss", "penalty"})


def uid_prefix(sport: str, league: str) -> str:
    """The sport and league part of ESPN `uid`s: "s:20~l:23"."""
    return f"s:{SPORT_UIDS.get(sport, '0')}~l:{LEAGUE_UIDS.get(league, '0')}"


def espn_minute(play: PlayRecord) -> str:
    """ESPN's `modified`/`lastModified` stamp: minutes precision, "2024-09-02T03:14Z"."""
    return play.wallclock.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def page_of(ref: str, items: list[Any], limit: int | None, page: int | None) -> dict[str, Any]:
    """One page of an ESPN collection: `{$ref, count, pageIndex, pageSize, pageCount, items}`.

    `limit` defaults to 25 and is capped at 1000; a page past the end has no items.
    """
    size = min(limit or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    index = page or 1
    start = (index - 1) * size
    return {
        "$ref": ref,
        "count": len(items),
        "pageIndex": index,
        "pageSize": size,
        "pageCount": max(1, math.ceil(len(items) / size)),
        "items": items[start : start + size],
    }


class Links:
    """The `$ref` URLs of one game."""

    def __init__(self, timeline: GameTimeline) -> None:
        record = timeline.record
        self.league = f"{CORE_API}/{record.sport}/leagues/{record.league}"
        self.season = f"{self.league}/seasons/{season_year(record)}"
        self.event = f"{self.league}/events/{record.id}"
        self.competition = f"{self.event}/competitions/{record.id}"

    @staticmethod
    def ref(url: str) -> dict[str, str]:
        """`{"$ref": url?lang=en&region=us}`."""
        return {"$ref": url + REF_QUERY}

    def team(self, team_id: str) -> dict[str, str]:
        """A team's document for the game's season."""
        return self.ref(f"{self.season}/teams/{team_id}")

    def of(self, document: str) -> dict[str, str]:
        """A document under the competition: `of("status")`, `of("plays/4016...")`."""
        return self.ref(f"{self.competition}/{document}")


class Items:
    """The play, probability and drive items of one game, built once and sliced per moment."""

    def __init__(self, timeline: GameTimeline, links: Links) -> None:
        self.timeline = timeline
        self.record = timeline.record
        self.links = links
        self.football = self.record.sport == "football"

    @cached_property
    def _play_items(self) -> list[dict[str, Any]]:
        return [self._play_item(play) for play in self.record.plays]

    @cached_property
    def _probability_items(self) -> dict[str, dict[str, Any]]:
        plays = self.record.plays
        items = {}
        for probability in self.timeline.probabilities(Moment(len(plays), Stage.FINAL)):
            index = self.timeline.play_index(probability.play_id)
            assert index is not None
            items[probability.play_id] = self._probability_item(probability, plays[index])
        return items

    def plays(self, moment: Moment) -> list[dict[str, Any]]:
        """The items of `/plays` at `moment`, in game order."""
        return self._play_items[: moment.revealed]

    def play(self, moment: Moment, play_id: str) -> dict[str, Any] | None:
        """`/plays/{id}` if that play is out at `moment`."""
        index = self.timeline.play_index(play_id)
        return self._play_items[index] if index is not None and index < moment.revealed else None

    def probabilities(self, moment: Moment) -> list[dict[str, Any]]:
        """The items of `/probabilities` at `moment` (each out with its play), in play order."""
        items = self._probability_items
        return [items[p.play_id] for p in self.timeline.probabilities(moment)]

    def probability(self, moment: Moment, play_id: str) -> dict[str, Any] | None:
        """`/probabilities/{playId}` if it is out at `moment`."""
        index = self.timeline.play_index(play_id)
        if index is None or index >= moment.revealed:
            return None
        return self._probability_items.get(play_id)

    def drives(self, moment: Moment) -> list[dict[str, Any]]:
        """The items of `/drives` at `moment` (football): drives begun, with their plays out."""
        return [self._drive_item(drive) for drive in self.timeline.drives(moment)]

    def _play_item(self, play: PlayRecord) -> dict[str, Any]:
        links, football = self.links, self.football
        item: dict[str, Any] = {
            "$ref": links.of(f"plays/{play.id}")["$ref"],
            "id": play.id,
            "sequenceNumber": str(play.sequence),
            "type": self._play_type(play),
            "text": play.text,
            "shortText": play.short_text or play.text,
            "awayScore": play.away_score,
            "homeScore": play.home_score,
            "period": {"number": play.period},
            "clock": {"value": clock_seconds(play), "displayValue": play.clock},
            "scoringPlay": play.scoring,
            "priority": False,
            "scoreValue": play.score_value,
            "modified": espn_minute(play),
        }
        if not football:
            item["period"]["displayValue"] = self._period_display(play.period)
        if play.team_id:
            item["team"] = links.team(play.team_id)
        item["probability"] = links.of(f"probabilities/{play.id}")
        item["wallclock"] = format_time(play.wallclock)
        if football and play.drive_id:
            item["drive"] = links.of(f"drives/{play.drive_id}")
        if football:
            for key, position in (("start", play.start), ("end", play.end)):
                if position is not None:
                    item[key] = self._play_position(position)
        return item

    def _play_type(self, play: PlayRecord) -> dict[str, str]:
        kind: dict[str, str] = {}
        if play.type_id is not None:
            kind["id"] = play.type_id
        if play.type_text is not None:
            kind["text"] = play.type_text
            abbreviation = FOOTBALL_ABBREVIATIONS.get(play.type_text) if self.football else None
            if abbreviation:
                kind["abbreviation"] = abbreviation
        return kind

    def _period_display(self, period: int) -> str:
        regulation = self.timeline.regulation
        if period > regulation:
            extra = period - regulation
            return "OT" if extra == 1 else f"{extra}OT"
        return f"{ordinal(period)} {'Quarter' if regulation == 4 else 'Half'}"

    def _play_position(self, position: Position) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "down": position.down,
            "distance": position.distance,
            "yardLine": position.yard_line,
            "yardsToEndzone": position.yards_to_endzone,
            "downDistanceText": position.down_distance_text,
            "shortDownDistanceText": short_down_distance(position.down_distance_text),
            "possessionText": position.possession_text,
            "team": self.links.team(position.team_id) if position.team_id else None,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def _probability_item(self, probability: ProbabilityRecord, play: PlayRecord) -> dict[str, Any]:
        links, record = self.links, self.record
        sequence = probability.sequence if probability.sequence is not None else play.sequence
        item: dict[str, Any] = {
            "$ref": links.of(f"probabilities/{play.id}")["$ref"],
            "competition": links.ref(links.competition),
            "play": links.of(f"plays/{play.id}"),
            "homeTeam": links.team(record.home.id),
            "awayTeam": links.team(record.away.id),
            "tiePercentage": probability.tie,
            "homeWinPercentage": probability.home,
            "awayWinPercentage": probability.away,
            "lastModified": espn_minute(play),
            "sequenceNumber": str(sequence),
            "source": {"id": "2", "description": "feed", "state": "full"},
        }
        seconds_left = probability.seconds_left
        if seconds_left is None and self.football:
            seconds_left = self._seconds_left(play)
        if seconds_left is not None:
            item["secondsLeft"] = seconds_left
        return item

    def _seconds_left(self, play: PlayRecord) -> int:
        """Regulation seconds left after a play (0 in overtime)."""
        periods_after = max(0, self.timeline.regulation - play.period)
        left = periods_after * self.record.period_seconds + clock_seconds(play)
        return int(left) if play.period <= self.timeline.regulation else 0

    def _drive_item(self, at: DriveAt) -> dict[str, Any]:
        drive, plays, links = at.drive, at.plays, self.links
        item: dict[str, Any] = {
            "$ref": links.of(f"drives/{drive.id}")["$ref"],
            "id": drive.id,
            "description": drive.description if at.complete else _running_description(plays),
            "sequenceNumber": str(drive.sequence),
        }
        if drive.team_id:
            item["team"] = links.team(drive.team_id)
        item["start"] = _drive_end(plays[0], drive.start_text, plays[0].start)
        if at.complete:
            item["end"] = _drive_end(plays[-1], drive.end_text, plays[-1].end)
        item["isScore"] = drive.is_score if at.complete else False
        item["offensivePlays"] = sum(1 for p in plays if _offensive(p))
        if at.complete and drive.result:
            item["result"] = drive.result.upper()
            item["shortDisplayResult"] = drive.result.upper()
            item["displayResult"] = drive.result
        indices = (self.timeline.play_index(p.id) for p in plays)
        play_items = [self._play_items[i] for i in indices if i is not None]
        item["plays"] = page_of(links.of(f"drives/{drive.id}/plays")["$ref"], play_items, 1000, 1)
        return item


def short_down_distance(text: str | None) -> str | None:
    """ "1st & 10 at KSU 9" -> "1st & 10"."""
    return text.split(" at ", 1)[0] if text else None


def _offensive(play: PlayRecord) -> bool:
    """Whether ESPN counts a play in a drive's `offensivePlays` (read off real drives)."""
    kind = (play.type_text or "").strip().lower()
    special = kind.startswith(("kickoff", "punt"))
    return not (special or kind in _NOT_OFFENSIVE or is_period_end(play) or is_timeout(play))


def _running_description(plays: tuple[PlayRecord, ...]) -> str:
    """A drive in progress: "5 plays, 32 yards" (yards when both ends' positions are known)."""
    count = sum(1 for p in plays if _offensive(p))
    text = f"{count} play{'' if count == 1 else 's'}"
    first, last = plays[0].start, plays[-1].end
    if first and last and first.yards_to_endzone is not None and last.yards_to_endzone is not None:
        text += f", {first.yards_to_endzone - last.yards_to_endzone} yards"
    return text


def _drive_end(play: PlayRecord, text: str | None, position: Position | None) -> dict[str, Any]:
    """A drive's `start` or `end`: period, clock, yard line and text."""
    end: dict[str, Any] = {
        "period": {"type": "quarter", "number": play.period},
        "clock": {"value": clock_seconds(play), "displayValue": play.clock},
    }
    if position is not None and position.yard_line is not None:
        end["yardLine"] = position.yard_line
    if text:
        end["text"] = text
    return end
