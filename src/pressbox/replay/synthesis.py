"""ESPN core-API documents of a recorded game at a moment, in the shapes ESPN serves them.

Every link is an absolute `http://sports.core.api.espn.com/v2/...?lang=en&region=us` `$ref`, as in
real documents, so a client rebases it onto whatever host it talks to. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pressbox.replay.items import REF_QUERY, Items, Links, short_down_distance, uid_prefix
from pressbox.replay.record import GameRecord, Position, TeamRecord
from pressbox.replay.timeline import GameTimeline, Moment

RED_ZONE_YARDS = 20


class GameDocuments:
    """Every core-API document of one game at any moment; play, probability and drive items come
    from `items` (built once per game, sliced per moment)."""

    def __init__(self, timeline: GameTimeline) -> None:
        self.timeline = timeline
        self.record = timeline.record
        self.links = Links(timeline)
        self.items = Items(timeline, self.links)
        self.football = self.record.sport == "football"
        self._uid = uid_prefix(self.record.sport, self.record.league)

    # -- the event and the competition ---------------------------------------------------------

    def event(self, moment: Moment) -> dict[str, Any]:
        """`/events/{id}`, with the competition embedded as ESPN does."""
        record = self.record
        return {
            "$ref": self.links.event + REF_QUERY,
            "id": record.id,
            "uid": f"{self._uid}~e:{record.id}",
            "date": _espn_date(record),
            "name": record.name,
            "shortName": record.short_name,
            "season": self.links.ref(self.links.season),
            "timeValid": True,
            "competitions": [self.competition(moment)],
            "league": self.links.ref(self.links.league),
        }

    def competition(self, moment: Moment) -> dict[str, Any]:
        """`/events/{id}/competitions/{id}`: competitors and the links to every live document.

        As ESPN does, `details` (plays) and `probabilities` appear once the game has begun.
        """
        record, links = self.record, self.links
        document: dict[str, Any] = {
            "$ref": links.competition + REF_QUERY,
            "id": record.id,
            "uid": f"{self._uid}~e:{record.id}~c:{record.id}",
            "date": _espn_date(record),
            "timeValid": True,
            "competitors": [
                self._competitor(moment, record.home, 0),
                self._competitor(moment, record.away, 1),
            ],
            "situation": links.of("situation"),
            "status": links.of("status"),
        }
        if moment.revealed:
            document["details"] = links.of("plays")
            document["probabilities"] = links.of("probabilities")
        document["format"] = self._format()
        if self.football:
            document["drives"] = links.of("drives")
        return document

    def competitor(self, moment: Moment, team_id: str) -> dict[str, Any] | None:
        """`/competitors/{id}`, or None for a team not in this game."""
        for order, team in enumerate((self.record.home, self.record.away)):
            if team.id == team_id:
                return self._competitor(moment, team, order)
        return None

    def _competitor(self, moment: Moment, team: TeamRecord, order: int) -> dict[str, Any]:
        document: dict[str, Any] = {
            "$ref": f"{self.links.competition}/competitors/{team.id}{REF_QUERY}",
            "id": team.id,
            "uid": f"{self._uid}~t:{team.id}",
            "type": "team",
            "order": order,
            "homeAway": team.home_away,
        }
        winner = self.timeline.winner(moment, team.home_away)
        if winner is not None:
            document["winner"] = winner
        document["team"] = self.links.team(team.id)
        document["score"] = self.links.of(f"competitors/{team.id}/score")
        return document

    def _format(self) -> dict[str, Any]:
        football = self.football
        return {
            "regulation": {
                "periods": self.timeline.regulation,
                "displayName": "Quarter" if self.timeline.regulation == 4 else "Half",
                "slug": "quarter" if self.timeline.regulation == 4 else "half",
                "clock": float(self.record.period_seconds),
            },
            "overtime": {
                "periods": 0 if football else 1,
                "displayName": "untimed" if football else "Overtime",
                "slug": "untimed" if football else "overtime",
            },
        }

    def score(self, moment: Moment, team_id: str) -> dict[str, Any] | None:
        """`/competitors/{id}/score`: `{value, displayValue}` (plus `winner` once final)."""
        side = next(
            (t.home_away for t in (self.record.home, self.record.away) if t.id == team_id), None
        )
        if side is None:
            return None
        home, away = self.timeline.score(moment)
        value = home if side == "home" else away
        document: dict[str, Any] = {
            "$ref": f"{self.links.competition}/competitors/{team_id}/score{REF_QUERY}",
            "value": float(value),
            "displayValue": str(value),
        }
        winner = self.timeline.winner(moment, side)
        if winner is not None:
            document["winner"] = winner
        return document

    def team(self, team_id: str) -> dict[str, Any] | None:
        """`/seasons/{year}/teams/{id}`, or None for a team not in this game."""
        team = next((t for t in (self.record.home, self.record.away) if t.id == team_id), None)
        if team is None:
            return None
        location, _, name = team.name.rpartition(" ")
        return {
            "$ref": self.links.team(team.id)["$ref"],
            "id": team.id,
            "uid": f"{self._uid}~t:{team.id}",
            "location": location or name,
            "name": name,
            "abbreviation": team.abbreviation,
            "displayName": team.name,
            "shortDisplayName": name,
            "isActive": True,
        }

    # -- status and situation -------------------------------------------------------------------

    def status(self, moment: Moment) -> dict[str, Any]:
        """`/status`."""
        status = self.timeline.status(moment)
        return {
            "$ref": self.links.of("status")["$ref"],
            "clock": status.clock,
            "displayClock": status.display_clock,
            "period": status.period,
            "type": {
                "id": status.type_id,
                "name": status.name,
                "state": status.state,
                "completed": status.completed,
                "description": status.description,
                "detail": status.detail,
                "shortDetail": status.short_detail,
            },
        }

    def situation(self, moment: Moment) -> dict[str, Any]:
        """`/situation`: the last play, and in football down, distance and field position."""
        document: dict[str, Any] = {"$ref": self.links.of("situation")["$ref"]}
        last = self.timeline.last_play(moment)
        if last is not None:
            document["lastPlay"] = self.links.of(f"plays/{last.id}")
        if not self.football:
            return document
        position = (last.end or last.start) if last else None
        if position is not None:
            document.update(self._field_position(position))
        timeouts = self.timeline.timeouts(moment)
        if timeouts is not None:
            document["homeTimeouts"], document["awayTimeouts"] = timeouts
        return document

    def _field_position(self, position: Position) -> dict[str, Any]:
        """Situation fields from a play's end position, keys in ESPN's order; `team` and the
        texts only when ESPN has them (not after a score or at a period end)."""
        texts = position.down_distance_text is not None
        fields: dict[str, Any] = {
            "down": position.down,
            "team": self.links.team(position.team_id) if texts and position.team_id else None,
            "yardLine": position.yard_line,
            "distance": position.distance,
            "downDistanceText": position.down_distance_text,
            "shortDownDistanceText": short_down_distance(position.down_distance_text),
            "possessionText": position.possession_text if texts else None,
        }
        to_go = position.yards_to_endzone
        if to_go is not None:
            fields["isRedZone"] = 0 <= to_go <= RED_ZONE_YARDS and position.down != 0
        return {key: value for key, value in fields.items() if value is not None}


def _espn_date(record: GameRecord) -> str:
    return record.start_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
