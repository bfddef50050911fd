"""A real HTTP receiver of webhook deliveries for tests: a threaded server on loopback that keeps
every delivery, checks its signature with the Python check of docs/webhooks.md (run from the
document itself, so the documented check is the one tested), and can be told to fail.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DOC = Path(__file__).parents[1] / "docs" / "webhooks.md"


def documented_verify() -> Callable[[str, str, bytes], bool]:
    """The `verify` function of docs/webhooks.md's Python block."""
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    verify: Callable[[str, str, bytes], bool] = namespace["verify"]
    return verify


@dataclass
class Received:
    """One delivery as the receiver got it."""

    body: dict[str, Any]
    signed: bool  # the signature checked out
    webhook_id: str
    answered: int


@dataclass
class Receiver:
    """What the receiver got; `failing` (a callable) says when to answer 500 instead of 200."""

    secret: str
    url: str = ""
    received: list[Received] = field(default_factory=list)
    failing: Callable[[], bool] = lambda: False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Received]:
        """The deliveries answered 2xx."""
        with self.lock:
            return [r for r in self.received if r.answered == 200]

    def events(self, game_id: str | None = None) -> list[dict[str, Any]]:
        """Every event of the accepted deliveries, in arrival order (redeliveries included)."""
        return [
            event
            for r in self.delivered()
            if game_id is None or r.body["game_id"] == game_id
            for event in r.body["events"]
        ]

    def unique_seqs(self, game_id: str) -> list[int]:
        """The seqs of `game_id` accepted, deduped by seq as the docs tell receivers to."""
        seen: set[int] = set()
        first: list[int] = []
        for event in self.events(game_id):
            if event["seq"] not in seen:
                seen.add(event["seq"])
                first.append(event["seq"])
        return first

    def assert_no_gap(self, game_id: str, *, redelivered: bool = True) -> None:
        """Each accepted delivery of the game starts at or before the end of what was accepted
        before it (a later start would be a gap); without `redelivered`, exactly at it."""
        covered = [
            (r.body["after"], r.body["through"])
            for r in self.delivered()
            if r.body["game_id"] == game_id
        ]
        reached = 0
        for after, through in covered:
            assert after <= reached if redelivered else after == reached, (after, reached)
            reached = max(reached, through)

    def wait_for(self, done: Callable[[Receiver], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.02)


@contextmanager
def receiving(secret: str) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 (a free port) while the context is open."""
    receiver = Receiver(secret)
    verify = documented_verify()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signed = verify(receiver.secret, self.headers.get("Pressbox-Signature", ""), body)
            status = 500 if receiver.failing() else 200
            with receiver.lock:
                receiver.received.append(
                    Received(json.loads(body), signed, self.headers["Pressbox-Webhook-Id"], status)
                )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test reports what matters

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
