"""Helpers of the end-to-end tests that run `pressbox` as operators do, in processes of its own:
the command, free loopback ports, polling until something happens, and starting processes that
are all stopped at the end of the test."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

#: The `pressbox` command, run by this interpreter.
PRESSBOX = [sys.executable, "-m", "pressbox.cli"]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], T | None],
    what: str,
    seconds: float,
    *,
    every: float = 0.05,
    ignore: tuple[type[Exception], ...] = (),
) -> T:
    """Poll `check` every `every` seconds until it returns something truthy, for at most
    `seconds`; a check that raises one of `ignore` counts as not yet (e.g. not up yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except ignore:
            pass
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting until {what}")


@contextlib.contextmanager
def processes(
    log_dir: Path, *, terminate: bool = False
) -> Iterator[Callable[[str, list[str], dict[str, str]], subprocess.Popen[bytes]]]:
    """Yields `start(name, command, env)`, which starts `command` with its output in
    `log_dir/name.log`. Every process still running at the end is stopped: killed (SIGKILL), or
    with `terminate` sent SIGTERM and killed only if it has not exited 10 s later."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (log_dir / f"{name}.log").open("wb") as log:  # the process keeps its own copy
            process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        started.append(process)
        return process

    try:
        yield start
    finally:
        if not terminate:
            for process in started:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=10)
        else:
            for process in started:
                if process.poll() is None:
                    process.terminate()
            for process in started:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
