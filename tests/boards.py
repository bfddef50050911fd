"""Scoreboards and plays documents of Iowa State at Kansas State (2025-08-23) built from its real
recorded plays: what the tracker and streamer tests feed the board path and the plays path."""

from __future__ import annotations

import json
from typing import Any

from pressbox.domain.documents import Document, DocumentKind, ref_id
from pressbox.domain.scoreboard import BoardGame, parse_scoreboard

COMPETITION = "/v2/sports/football/leagues/college-football/events/401756846/competitions/401756846"
HOME, AWAY = "2306", "66"  # Kansas State, Iowa State


def spot(position: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"yardLine": position.get("yardLine")}
    if isinstance(position.get("team"), dict):
        found["team"] = {"id": ref_id(position["team"]["$ref"])}
    return found


def board(item: dict[str, Any], probability: float | None = 0.6, **situation: Any) -> BoardGame:
    """The league scoreboard as it shows the game right after `item`."""
    last: dict[str, Any] = {
        "id": item["id"],
        "text": item["text"],
        "type": {"id": "1", "text": item["type"]["text"]},
        "scoreValue": item.get("scoreValue", 0),
        "start": spot(item["start"]),
        "end": spot(item["end"]),
    }
    if "team" in item:
        last["team"] = {"id": ref_id(item["team"]["$ref"])}
    if probability is not None:
        last["probability"] = {
            "homeWinPercentage": probability,
            "awayWinPercentage": 1 - probability,
            "tiePercentage": 0.0,
        }
    status = {
        "clock": 0.0,
        "displayClock": item["clock"]["displayValue"],
        "period": item["period"]["number"],
        "type": {"name": "STATUS_IN_PROGRESS", "state": "in", "completed": False},
    }
    competitors = [
        {"homeAway": "home", "team": {"id": HOME}, "score": str(item["homeScore"])},
        {"homeAway": "away", "team": {"id": AWAY}, "score": str(item["awayScore"])},
    ]
    event = {
        "id": "401756846",
        "date": "2025-08-23T16:00Z",
        "status": status,
        "competitions": [
            {
                "competitors": competitors,
                "situation": {"lastPlay": last, "down": 1, "distance": 10, **situation},
            }
        ],
    }
    parsed = parse_scoreboard(json.dumps({"events": [event]}), "football", "college-football")
    return parsed.games[0]


def items_of(document: Document, count: int, copy: int = 0) -> Document:
    """`document` cut to its first `count` plays (what ESPN had then); `copy` makes another
    body of the same content."""
    body = dict(document.body)
    body["items"] = document.items[:count]
    body["count"] = count
    body["copy"] = copy
    raw = json.dumps(body).encode()
    return Document.parse(DocumentKind.PLAYS, raw, document.fetched_at)
