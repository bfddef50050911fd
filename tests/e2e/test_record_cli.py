"""`pressbox record` as a user runs it: against a replay server, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from processes import PRESSBOX, free_port

from pressbox.replay import load_recording

REPO = Path(__file__).resolve().parents[2]


def test_ctrl_c_keeps_what_was_captured(tmp_path: Path, recordings_dir: Path) -> None:
    port = free_port()
    env = {**os.environ, "PRESSBOX_LOG_LEVEL": "WARNING"}
    game = recordings_dir / "games/nba-401772994/summary.json"
    server = subprocess.Popen(
        [*PRESSBOX, "replay-server", str(game), "--speed", "200", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out = tmp_path / "live.har"
    recorder = None
    try:
        for _ in range(100):  # bounded: up to 10 s for the server to answer
            try:
                httpx.get(f"http://127.0.0.1:{port}/_replay/status", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        recorder = subprocess.Popen(
            [
                *PRESSBOX, "record", "--league", "nba", "--game", "401772994", "--out", str(out),
                "--espn-url", f"http://127.0.0.1:{port}", "--speed", "200",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(200):  # bounded: until something was captured (at most 20 s)
            if out.exists() and out.stat().st_size > 20_000:
                break
            time.sleep(0.1)
        recorder.send_signal(signal.SIGINT)
        _, stderr = recorder.communicate(timeout=30)
    finally:
        for process in (recorder, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert recorder.returncode == 130, stderr.decode()
    assert b"wrote" in stderr and b"responses to" in stderr
    har = json.loads(out.read_text())  # a complete JSON document: the file was closed
    entries = har["log"]["entries"]
    assert entries and all(e["response"]["status"] in (200, 404) for e in entries)
    recording = load_recording(out)
    assert any(path.endswith("/competitions/401772994/status") for path in recording.paths())
