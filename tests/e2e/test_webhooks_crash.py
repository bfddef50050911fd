"""Webhooks through a crash, as operators run them: a subscription added with `pressbox webhooks
add`, a `pressbox runner` streaming the recorded game and delivering it to a real receiver on
loopback. The receiver answers 500 for 3 minutes of replay time (and until the runner that takes
over has been refused too); meanwhile the runner is killed with SIGKILL and another takes over.
The receiver ends with every event of the game's log once its redeliveries are deduped by seq,
in seq order, with no gap, every one signed.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from processes import PRESSBOX, wait_for
from runs import EVERY, GAME, SPEED, event_log, query, replay, stream_row

from webhook_receiver import receiving

SECRET = "whsec_crash-test-0123456789"
OUTAGE = 180.0  # seconds of replay time the receiver answers 500


def webhook_row(db: Path) -> dict[str, object]:
    columns = "status, owner, delivered, failing_since, last_error"
    [row] = query(db, f"SELECT {columns} FROM webhooks")
    return dict(zip(columns.split(", "), row, strict=True))


def test_a_killed_dispatcher_leaves_no_gap_and_every_event_arrives(
    tmp_path: Path, ncaaf_postman: Path
) -> None:
    hooks = {
        "PRESSBOX_WEBHOOK_POLL_SECONDS": "5",  # 10 ms of real time at 500x
        "PRESSBOX_WEBHOOK_FAILING_AFTER_SECONDS": "60",
        "PRESSBOX_WEBHOOK_BATCH_EVENTS": "25",
    }
    with (
        receiving(SECRET) as receiver,
        replay(tmp_path, "hooks", ncaaf_postman, **hooks) as run,
    ):
        add = [*PRESSBOX, "webhooks", "add", receiver.url, "--secret", SECRET]
        added = subprocess.run(add, env=run.env, capture_output=True, text=True, timeout=60)
        assert added.returncode == 0, added.stderr
        first = run.runner("runner0")
        receiver.wait_for(lambda r: len(r.events(GAME)) >= 60, 90, "60 events delivered")
        # The receiver fails from now until at least OUTAGE of replay time has passed and the
        # runner that takes over has been refused too (a busy machine takes longer).
        outage_ends = time.monotonic() + OUTAGE / SPEED
        receiver.failing = lambda: True
        wait_for(
            lambda: webhook_row(run.db)["status"] == "failing",
            "the subscription shows as failing",
            60,
            every=EVERY,
        )
        assert webhook_row(run.db)["last_error"] == "HTTP 500"
        refused_before_kill = sum(r.answered == 500 for r in receiver.received)
        first.kill()  # SIGKILL: no release; the leases (stream and webhook) must run out
        first.wait(timeout=10)
        second = run.runner("runner1")
        wait_for(
            lambda: f":{second.pid}:" in str(webhook_row(run.db)["owner"]),
            "the second runner takes the webhook over",
            30,
            every=EVERY,
        )
        receiver.wait_for(
            lambda r: sum(x.answered == 500 for x in r.received) > refused_before_kill,
            30,
            "the second runner's first refused attempt",
        )
        time.sleep(max(0.0, outage_ends - time.monotonic()))
        receiver.failing = lambda: False
        wait_for(run.completed, "the taken-over stream completes", 150, every=EVERY)
        log = event_log(run.db)
        receiver.wait_for(
            lambda r: len(r.unique_seqs(GAME)) >= len(log), 60, "every event of the log"
        )
        wait_for(lambda: webhook_row(run.db)["delivered"] >= len(log), "the cursor at the end", 30)
        run.stop(second)

    hook = webhook_row(run.db)
    assert hook["status"] == "active" and hook["failing_since"] is None and hook["owner"] is None
    assert stream_row(run.db)["retry_count"] == 1  # the stream was taken over too
    assert receiver.unique_seqs(GAME) == [e["seq"] for e in log] == list(range(1, len(log) + 1))
    receiver.assert_no_gap(GAME)
    assert all(r.signed for r in receiver.received), "a signature did not check out"
    by_seq = {e["seq"]: e for e in receiver.events(GAME)}
    assert all(by_seq[e["seq"]]["type"] == e["type"] for e in log)
    assert all(by_seq[e["seq"]]["data"] == e["data"] for e in log)
    refused = sum(r.answered == 500 for r in receiver.received)
    accepted = len(receiver.events(GAME))
    print(
        f"\n{len(log)} events; {accepted} accepted ({accepted - len(log)} redelivered), "
        f"{refused} refused ({refused_before_kill} before the kill -9)"
    )
    assert refused_before_kill >= 2 and sum(e["type"] == "play_added" for e in log) >= 88
