"""Crash recovery as operators see it: two `pressbox runner` processes share one SQLite database
and follow the recorded game from a `pressbox replay-server` process; the runner holding the
stream is killed with SIGKILL mid-game; the other takes the stream over when its lease runs out,
finishes it, and the event log ends as that of an uninterrupted run of the same recording.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from processes import wait_for
from runs import EVERY, POLL, SPEED, TTL, event_log, query, replay, replay_time, stream_row

from logs import in_game_order
from pressbox.domain.events import EventType, StoredEvent


def final_plays(log: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each play's last version (added, then corrected), without the correction's bookkeeping."""
    plays: dict[str, dict[str, Any]] = {}
    for e in log:
        if e["type"] in ("play_added", "play_corrected"):
            plays[e["data"]["id"]] = {k: v for k, v in e["data"].items() if k != "previous_text"}
    return plays


def deterministic(log: list[dict[str, Any]]) -> dict[str, Any]:
    """What any complete run of the recording must log identically.

    Not here, because they are sampled: status and situation events are snapshots caught by
    polling (status every 30 s, situation every 5 s of the replay clock). Which recorded versions
    a run catches depends on where its polls fall, and a run that stood still for up to a lease
    TTL misses the versions that lived only in that gap (the recording has status versions 14 s
    apart). Score events follow from the plays document as it was at each poll, so their keys
    (and a score that changed twice in a gap) are sampled too; the final score is not.
    Probability points carry the time they were learned when their play is not yet known.
    """
    plays, probabilities = in_game_order(
        StoredEvent(e["seq"], EventType(e["type"]), e["key"], replay_time(e["at"]), e["data"])
        for e in log
    )
    return {
        "play ids": plays,
        "plays (last version)": final_plays(log),
        "probabilities": [
            (p["id"], p["sequence"], p["play_id"], p["home"], p["away"]) for p in probabilities
        ],
        "drive keys": [e["key"] for e in log if e["type"] == "drive"],
        "final status": [e["data"] for e in log if e["type"] == "status"][-1],
    }


def assert_sound(log: list[dict[str, Any]]) -> None:
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1)), "seqs are not consecutive"
    assert len({e["key"] for e in log}) == len(log), "an event is logged twice"
    for kind in ("status", "situation"):
        snapshots = [e["data"] for e in log if e["type"] == kind]
        assert all(a != b for a, b in zip(snapshots, snapshots[1:], strict=False)), kind


def test_a_killed_runner_is_taken_over_and_the_log_is_as_if_nothing_happened(
    tmp_path: Path, ncaaf_postman: Path
) -> None:
    # Two replays of the recording side by side, each on its own server and database: the
    # uninterrupted one (one runner from the start to the end), and the one with the crash.
    with (
        replay(tmp_path, "uninterrupted", ncaaf_postman) as whole,
        replay(tmp_path, "crash", ncaaf_postman) as run,
    ):
        alone = whole.runner("runner")
        reference, db = whole.db, run.db
        runners = {r.pid: r for r in (run.runner("runner0"), run.runner("runner1"))}

        def holder_in_the_game() -> dict[str, Any] | None:
            row = stream_row(db)
            plays = query(db, "SELECT count(*) FROM events WHERE type = 'play_added'")[0][0]
            return row if row["status"] == "Active" and row["owner"] and plays else None

        held = wait_for(holder_in_the_game, "a runner streams the game in Active", 90, every=EVERY)
        victim = runners.pop(int(held["owner"].split(":")[1]))
        [survivor] = runners.values()
        killed_at = time.monotonic()
        victim.kill()  # SIGKILL: no release, no cleanup; the lease must run out
        victim.wait(timeout=10)
        lease_of_the_dead = stream_row(db)["lease_expires_at"]
        taken = wait_for(
            lambda: (row := stream_row(db))["owner"] not in (None, held["owner"]) and row,
            "the other runner takes the stream over",
            30,
            every=EVERY,
        )
        takeover = time.monotonic() - killed_at
        assert int(taken["owner"].split(":")[1]) == survivor.pid and taken["retry_count"] == 1
        lag = replay_time(taken["heartbeat_at"]) - replay_time(lease_of_the_dead)
        print(
            f"\ntakeover {takeover:.2f} s after kill -9 ({takeover * SPEED:.0f} s of replay "
            f"time; lease TTL {TTL:g} s, claims every {POLL:g} s); claimed "
            f"{lag.total_seconds():.0f} s of replay time after the dead lease ran out"
        )
        assert takeover * SPEED <= TTL + POLL + 2 * SPEED  # 2 s of slack for a busy machine
        assert lag.total_seconds() <= POLL + 2 * SPEED
        wait_for(run.completed, "the taken-over stream completes", 150, every=EVERY)
        run.stop(survivor)
        wait_for(whole.completed, "the uninterrupted stream completes", 150, every=EVERY)
        whole.stop(alone)

    crashed, uninterrupted = event_log(db), event_log(reference)
    assert_sound(crashed)
    assert_sound(uninterrupted)
    ours, theirs = deterministic(crashed), deterministic(uninterrupted)
    for aspect in ours:
        assert ours[aspect] == theirs[aspect], aspect
    assert len(ours["play ids"]) == 88 and len(ours["probabilities"]) == 147
    assert ours["final status"]["name"] == "STATUS_FINAL"
    score = "SELECT home_score, away_score FROM games WHERE id = ?"
    assert query(db, score) == query(reference, score) == [(7, 7)]
    counts = Counter(e["type"] for e in crashed)
    print(f"crash run: {len(crashed)} events {dict(counts)}; uninterrupted: {len(uninterrupted)}")
