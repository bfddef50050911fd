"""Fan-out of live events to many WebSocket viewers: the Pressbox server against a naive one.

Starts the server under test (bench/_fanout_server.py: the Pressbox app from `create_app` over a
temporary SQLite store and the in-process bus, with an injector that appends plays through
`Store.append` and publishes them as a streamer does) and client processes on loopback
(bench/_wsclient.py, at most 4,000 connections per process), then runs each scenario twice in
the same run: against Pressbox and against a naive baseline (the seed's
`for ws in clients: await ws.send_json(msg)` under one asyncio lock). Scenarios:

- burst:    one play to 10,000 viewers of one game, repeatedly — time to last delivery per burst
            (from the injection, i.e. including the commit, and from the publish), p50/p99;
- steady:   20,000 viewers over 50 games, 2 plays/s per game — delivery latency p50/p99/max,
            deliveries/s, server CPU and server RSS per connection;
- slow:     then 1 % more viewers that read at most --slow-rate bytes/s — the others' p99 change
            and the server's memory (runs on the steady scenario's connections);
- restart:  10,000 viewers over 50 games, plays flowing; the server is killed and started again
            on the same port and database; viewers reconnect with the UI's full-jitter backoff
            (base 0.5 s, cap 15 s) and `?after=<last seq>` — share reconnected within 30 s and
            share resumed with no gap and no duplicate, up to the game's last seq.

    .venv/bin/python bench/fanout.py --scale 0.1        # every scenario, 10 % of the viewers
    .venv/bin/python bench/fanout.py --scenario burst steady --scale 1

Progress goes to stderr; the figures, ratios and targets to stdout, with one JSON line last
(`{"bench": "fanout", ...}`). Every scenario has a wall-time bound (--bound); every process it
starts is stopped when it ends, fails or times out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import queue
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fanout_load import load_main

HERE = Path(__file__).resolve().parent
PER_PROCESS = 4000
GAMES = 50
SCENARIOS = ("burst", "steady", "slow", "restart")
#: Connection setup is not measured in burst and steady: admit as fast as viewers come.
SETUP_ADMISSION = 100_000.0
MODES = ("pressbox", "naive")


class Bound(Exception):
    """A scenario ran past its wall-time bound."""


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))], 1)


class Deadline:
    """The wall-time bound of one scenario."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, cap: float = math.inf) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise Bound("scenario ran past its wall-time bound")
        return min(cap, remaining)


class Server:
    """bench/_fanout_server.py in a subprocess, driven by JSON lines."""

    def __init__(
        self, mode: str, port: int, db: Path, games: int, live: dict[str, Any], *, init: bool
    ) -> None:
        command = [sys.executable, str(HERE / "_fanout_server.py"), "--mode", mode]
        command += ["--port", str(port), "--db", str(db), "--games", str(games)]
        command += ["--live", json.dumps(live)]
        if init:
            command.append("--init")
        self.log = db.with_name(f"server-{mode}-{int(time.time() * 1000)}.log")
        with self.log.open("w") as log_file:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True
            )
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self.reply("ready", 60)
        self.pid = int(ready["ready"])

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.replies.put(json.loads(line))

    def tell(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def reply(self, key: str, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            try:
                message = self.replies.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                raise Bound(f"server gave no {key!r} within {timeout:.0f} s") from None
            if message.get("op") == key or key in message:
                return message

    def rss_kib(self) -> int:
        return proc_rss_kib(self.pid)

    def errors(self) -> dict[str, Any]:
        """How many errors the server logged, and the last line of the first traceback."""
        count, first = 0, ""
        with contextlib.suppress(OSError), self.log.open(errors="replace") as lines:
            for line in lines:
                if line.startswith(("ERROR", "Traceback")):
                    count += 1
                elif not first and count and not line.startswith(" "):
                    first = line.strip()[:200]
        return {"server_errors": count, "first_error": first}

    def cpu(self) -> float:
        return proc_cpu_seconds(self.pid)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.tell(op="quit")
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class Load:
    """Client processes, each driven through a pipe (bench/_fanout_load.py)."""

    def __init__(self, viewers: int, run_no: int) -> None:
        ctx = mp.get_context("fork")
        self.count = max(2, math.ceil(viewers / PER_PROCESS))
        self.pipes: list[Any] = []
        self.procs: list[Any] = []
        for index in range(self.count):
            mine, theirs = ctx.Pipe()
            ip = f"127.{run_no % 250 + 1}.{index // 250}.{index % 250 + 1}"
            proc = ctx.Process(target=load_main, args=(index, theirs, ip), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def split(self, total: int) -> list[int]:
        return [
            total // self.count + (1 if k < total % self.count else 0) for k in range(self.count)
        ]

    def send(self, index: int, *command: Any) -> None:
        self.pipes[index].send(command)

    def send_all(self, *command: Any) -> None:
        for pipe in self.pipes:
            pipe.send(command)

    def collect(self, kind: str, deadline: Deadline, cap: float = math.inf) -> list[Any]:
        """One `kind` reply from every process (other replies are dropped)."""
        found: dict[int, Any] = {}
        end = time.monotonic() + deadline.left(cap)
        while len(found) < self.count:
            if time.monotonic() > end:
                raise Bound(f"clients gave {len(found)}/{self.count} {kind!r} replies in time")
            for index, pipe in enumerate(self.pipes):
                if index not in found and pipe.poll(0.02):
                    message = pipe.recv()
                    if message[0] == kind:
                        found[index] = message[1]
        return [found[k] for k in range(self.count)]

    def connect(self, port: int, plan: list[tuple[str, int]], deadline: Deadline) -> int:
        """Spread `plan` (game, viewers) over the processes; returns how many connected."""
        shares: list[list[tuple[str, int]]] = [[] for _ in range(self.count)]
        for game, viewers in plan:
            for index, n in enumerate(self.split(viewers)):
                if n:
                    shares[index].append((game, n))
        for index, share in enumerate(shares):
            self.send(index, "connect", port, share)
        replies = self.collect("connected", deadline)
        failed = sum(r[1] for r in replies)
        if failed:
            log(f"  {failed} connections failed")
        return sum(r[0] for r in replies)

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError, ValueError, BrokenPipeError):
                pipe.send(("quit",))
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


def live_limits(viewers: int, admission: float | None) -> dict[str, Any]:
    """Pressbox's live limits for a run: its defaults, except those a loopback load cannot meet.

    All viewers come from a few loopback addresses, so the per-address cap is lifted; the
    connection cap is raised to the viewers of the run (its default is 10,000 per process);
    `admission` (new connections per second, and as many at once) replaces the default rate.
    """
    limits: dict[str, Any] = {
        "max_connections_per_ip": 1_000_000,
        "max_connections": max(10_000, viewers + viewers // 50 + 100),
    }
    if admission is not None:
        limits["admission_rate"] = admission
        limits["admission_burst"] = int(admission)
    return limits


@contextlib.contextmanager
def session(
    mode: str, viewers: int, games: int, bound: float, run_no: int, live: dict[str, Any]
) -> Any:
    """A fresh database, a server and client processes; all stopped on the way out."""
    deadline = Deadline(bound)
    with tempfile.TemporaryDirectory(prefix="pressbox-fanout-") as tmp:
        db = Path(tmp) / "fanout.db"
        port = free_port()
        servers: list[Server] = [Server(mode, port, db, games, live, init=True)]
        load = Load(viewers, run_no)
        try:
            yield deadline, servers, load, port, db, live
        finally:
            load.close()
            for server in servers:
                server.stop()


def game(index: int) -> str:
    return f"bench{index}"


def spread(viewers: int, games: int) -> list[tuple[str, int]]:
    return [(game(g), viewers // games + (1 if g < viewers % games else 0)) for g in range(games)]


# ---------------------------------------------------------------- scenarios


def burst(mode: str, viewers: int, bursts: int, bound: float, run_no: int) -> dict[str, Any]:
    """One play at a time to every viewer of one game; waits for the last delivery each time."""
    live = live_limits(viewers, SETUP_ADMISSION)
    with session(mode, viewers, 1, bound, run_no, live) as (deadline, servers, load, port, *_):
        server = servers[0]
        connected, memory = connect_measured(server, load, port, viewers, 1, deadline)
        load.send_all("notify", True)
        last_ms, last_pub_ms, median_ms = [], [], []
        incomplete = 0
        for number in range(bursts + 1):  # the first one warms up
            server.tell(op="burst", game=game(0))
            sent = server.reply("burst", deadline.left(30))
            replies = _wait_seq(load, sent["seq"], deadline)
            arrivals = [r for r in replies if r is not None]
            time.sleep(0.2)
            if number == 0:
                continue
            if len(arrivals) < len(replies):
                incomplete += 1
                continue
            last = max(a[1] for a in arrivals)
            last_ms.append((last - sent["sent_ns"]) / 1e6)
            last_pub_ms.append((last - sent["published_ns"]) / 1e6)
            median_ms.append(sorted(a[2] for a in arrivals)[len(arrivals) // 2] / 1e3)
        report = _merge(_report(load, deadline))
        return {
            "viewers": viewers,
            "connected": connected,
            "bursts": len(last_ms),
            "last_ms_p50": pct(last_ms, 50),
            "last_ms_p99": pct(last_ms, 99),
            "last_from_publish_ms_p50": pct(last_pub_ms, 50),
            "last_from_publish_ms_p99": pct(last_pub_ms, 99),
            "process_median_ms_p50": pct(median_ms, 50),
            **memory,
            "incomplete_bursts": incomplete,
            **server.errors(),
            "gaps": report["gaps"],
            "duplicates": report["duplicates"],
        }


def connect_measured(
    server: Server, load: Load, port: int, viewers: int, games: int, deadline: Deadline
) -> tuple[int, dict[str, Any]]:
    """Connect `viewers` over `games` in two steps (10 %, then the rest) and measure the server's
    RSS per connection over the second step, so one-time costs (first snapshot, caches) stay
    out of it; the whole-run figure (from before any connection) is given too."""
    base = server.rss_kib()
    first = max(games, viewers // 10)
    connected = load.connect(port, spread(first, games), deadline)
    time.sleep(1)
    middle = server.rss_kib()
    rest = load.connect(port, spread(viewers - first, games), deadline)
    time.sleep(2)
    rss = server.rss_kib()
    log(f"  {connected + rest} viewers connected; server RSS {rss // 1024} MiB")
    return connected + rest, {
        "rss_kib_per_conn": round((rss - middle) / max(1, rest), 1),
        "rss_kib_per_conn_all_in": round((rss - base) / max(1, connected + rest), 1),
        "rss_mib": round(rss / 1024, 1),
    }


def _wait_seq(load: Load, seq: int, deadline: Deadline) -> list[Any]:
    """Each process's (seq, last receive ns, median latency us) once all its viewers got `seq`."""
    found: dict[int, Any] = {}
    end = time.monotonic() + deadline.left(20)
    while len(found) < load.count and time.monotonic() < end:
        for index, pipe in enumerate(load.pipes):
            if index not in found and pipe.poll(0.01):
                message = pipe.recv()
                if message[0] == "got" and message[1][0] == seq:
                    found[index] = message[1]
    if len(found) < load.count:
        log(f"  seq {seq}: {len(found)}/{load.count} processes got it from every viewer")
    return [found.get(k) for k in range(load.count)]


def _report(load: Load, deadline: Deadline) -> list[dict[str, Any]]:
    load.send_all("report")
    return load.collect("report", deadline, 120)


def _merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"gaps": 0, "duplicates": 0, "latencies_us": [], "deliveries": 0}
    for report in reports:
        merged["gaps"] += report["gaps"]
        merged["duplicates"] += report["duplicates"]
        merged["deliveries"] += report["deliveries"]
        merged["latencies_us"].extend(report["latencies_us"])
    return merged


def steady(
    mode: str,
    viewers: int,
    seconds: float,
    slow: bool,
    slow_rate: int,
    bound: float,
    run_no: int,
) -> dict[str, Any]:
    """Viewers over 50 games with plays flowing; then, with `slow`, 1 % slow readers more."""
    live = live_limits(viewers, SETUP_ADMISSION)
    with session(mode, viewers, GAMES, bound, run_no, live) as (deadline, servers, load, port, *_):
        server = servers[0]
        connected, memory = connect_measured(server, load, port, viewers, GAMES, deadline)
        rss = server.rss_kib()
        figures: dict[str, Any] = {"viewers": viewers, "connected": connected, **memory}
        figures["steady"] = _flow(server, load, connected, seconds, deadline)
        if slow:
            count = max(1, round(viewers / 100))
            for index, n in enumerate(load.split(count)):
                load.send(index, "slow", port, [(game(g % GAMES), 1) for g in range(n)], slow_rate)
            load.collect("slowed", deadline, 60)
            log(f"  {count} slow readers ({slow_rate} B/s) connected")
            figures["slow"] = _flow(server, load, connected, seconds, deadline)
            figures["slow"]["slow_viewers"] = count
            figures["slow"]["rss_growth_mib"] = round((server.rss_kib() - rss) / 1024, 1)
            load.send_all("unslow")
            figures["slow"]["slow_bytes_read"] = sum(load.collect("unslowed", deadline, 60))
        figures.update(server.errors())
        return figures


def _flow(
    server: Server, load: Load, viewers: int, seconds: float, deadline: Deadline
) -> dict[str, Any]:
    """2 plays/s per game for `seconds`; latency of every delivery to a (normal) viewer."""
    load.send_all("measure", True)
    cpu = server.cpu()
    started = time.monotonic()
    server.tell(op="steady", games=GAMES, rate=2, seconds=seconds)
    # An overloaded server falls behind its own schedule: wait for it (within the bound) and
    # report the rate it managed rather than nothing.
    done = server.reply("steady", deadline.left(seconds * 10 + 60))
    elapsed = time.monotonic() - started
    time.sleep(2)  # deliveries in flight
    busy = server.cpu() - cpu
    load.send_all("measure", False)
    report = _merge(_report(load, deadline))
    lat_ms = [x / 1000 for x in report["latencies_us"]]
    expected = done["events"] * viewers // GAMES
    log(
        f"  {report['deliveries']}/{expected} deliveries in {elapsed:.1f} s, "
        f"p99 {pct(lat_ms, 99)} ms, server CPU {100 * busy / (elapsed + 2):.0f} %"
    )
    return {
        "seconds": round(elapsed, 1),
        "events": done["events"],
        "events_per_s": round(done["events"] / elapsed, 1),
        "injector_lag_ms": done["lag_ms"],
        "deliveries": report["deliveries"],
        "expected_deliveries": expected,
        "deliveries_per_s": round(report["deliveries"] / elapsed),
        "latency_ms_p50": pct(lat_ms, 50),
        "latency_ms_p99": pct(lat_ms, 99),
        "latency_ms_max": round(max(lat_ms), 1) if lat_ms else None,
        "server_cpu_pct": round(100 * busy / (elapsed + 2), 1),
        "server_rss_mib": round(server.rss_kib() / 1024, 1),
        "gaps": report["gaps"],
        "duplicates": report["duplicates"],
    }


def restart(
    mode: str, viewers: int, admission: float | None, bound: float, run_no: int
) -> dict[str, Any]:
    """Kill the server under `viewers` with plays flowing, start it again, watch them come back."""
    live = live_limits(viewers, admission)
    with session(mode, viewers, GAMES, bound, run_no, live) as opened:
        deadline, servers, load, port, db, live = opened
        connected = load.connect(port, spread(viewers, GAMES), deadline)
        log(f"  {connected} viewers connected")
        servers[0].tell(op="steady", games=GAMES, rate=2, seconds=60)
        time.sleep(4)
        load.send_all("mark")
        killed = time.time_ns()
        servers[0].kill()
        log("  server killed; starting it again")
        servers.append(Server(mode, port, db, GAMES, live, init=False))
        up = (time.time_ns() - killed) / 1e9
        log(f"  server back after {up:.1f} s")
        servers[1].tell(op="steady", games=GAMES, rate=2, seconds=32)
        servers[1].reply("steady", deadline.left(120))
        time.sleep(3)
        seqs = _seqs(servers[1], deadline)
        load.send_all("reconnect", False)
        load.send_all("verdict", seqs)
        verdicts = load.collect("verdict", deadline, 120)
        total = sum(v["viewers"] for v in verdicts)
        within = sum(v["reconnected_30s"] for v in verdicts)
        resumed = sum(v["resumed_gap_free"] for v in verdicts)
        delays = [d for v in verdicts for d in v["reconnect_s"]]
        return {
            "viewers": viewers,
            "connected": connected,
            "admission_rate": admission or "default",
            "server_down_s": round(up, 1),
            "reconnected_30s_share": round(within / max(1, total), 4),
            "resumed_gap_free_share": round(resumed / max(1, total), 4),
            "reconnect_s_p50": pct(delays, 50),
            "reconnect_s_max": round(max(delays), 1) if delays else None,
            "gaps": sum(v["gaps"] for v in verdicts),
            "duplicates": sum(v["duplicates"] for v in verdicts),
            "snapshots_instead_of_resume": sum(v["snapshots"] for v in verdicts),
            "behind_last_seq": sum(v["behind"] for v in verdicts),
            "close_codes": _sum_counts(v["closes"] for v in verdicts),
            **servers[1].errors(),
        }


def _sum_counts(counts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for code, n in count.items():
            total[str(code)] = total.get(str(code), 0) + n
    return total


def _seqs(server: Server, deadline: Deadline) -> dict[str, int]:
    server.tell(op="seqs")
    return dict(server.reply("seqs", deadline.left(30))["seqs"])


# ---------------------------------------------------------------- the run


def fd_budget() -> int:
    """Viewers one server process can hold: the open-file limit (which a process cannot raise
    past its hard limit, 20,000 here) less a reserve for the listener, database and pipes."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 300


def capped(viewers: int, share_more: float = 0.0) -> int:
    """`viewers`, or fewer if they (and `share_more` of them again) would not fit the budget."""
    fit = int(fd_budget() / (1 + share_more))
    if viewers > fit:
        log(f"  {viewers} viewers do not fit one server process's open files: {fit} instead")
    return min(viewers, fit)


def run_scenario(name: str, mode: str, args: argparse.Namespace, run_no: int) -> dict[str, Any]:
    scale = args.scale
    try:
        if name == "burst":
            return burst(mode, capped(round(10_000 * scale)), args.bursts, args.bound, run_no)
        if name == "steady":
            slow = "slow" in args.scenario
            viewers = capped(round(20_000 * scale), 0.01 if slow else 0.0)
            figures = steady(mode, viewers, args.seconds, slow, args.slow_rate, args.bound, run_no)
            figures["asked_viewers"] = round(20_000 * scale)
            return figures
        return restart(mode, capped(round(10_000 * scale)), args.admission, args.bound, run_no)
    except (Bound, RuntimeError, OSError, EOFError) as exc:
        log(f"  {name}/{mode} failed: {exc!r}")
        return {"error": repr(exc)}


def ratio(naive: float | None, ours: float | None) -> float | None:
    if not naive or not ours:
        return None
    return round(naive / ours, 2)


def targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each issue target with the figure measured against it (None: not measured)."""
    checks: dict[str, Any] = {}
    steady_ours = results.get("steady", {}).get("pressbox", {})
    if "rss_kib_per_conn" in steady_ours:
        kb = steady_ours["rss_kib_per_conn"] * 1.024
        checks["rss_per_viewer_le_20kb"] = {"kb": round(kb, 1), "met": kb <= 20}
    burst_ours = results.get("burst", {}).get("pressbox", {})
    burst_naive = results.get("burst", {}).get("naive", {})
    if burst_ours.get("last_ms_p99") is not None:
        speedup = ratio(burst_naive.get("last_ms_p50"), burst_ours.get("last_ms_p50"))
        checks["burst_p99_le_150ms"] = {
            "ms": burst_ours["last_ms_p99"],
            "met": burst_ours["last_ms_p99"] <= 150,
        }
        checks["burst_5x_naive"] = {"ratio_p50": speedup, "met": bool(speedup and speedup >= 5)}
    slow = steady_ours.get("slow")
    if slow and slow.get("latency_ms_p99") is not None:
        moved = round(slow["latency_ms_p99"] - steady_ours["steady"]["latency_ms_p99"], 1)
        checks["slow_moves_p99_lt_10ms"] = {"ms": moved, "met": abs(moved) < 10}
    storm = results.get("restart", {}).get("pressbox", {})
    if "reconnected_30s_share" in storm:
        checks["restart_all_back_gap_free"] = {
            "reconnected": storm["reconnected_30s_share"],
            "resumed": storm["resumed_gap_free_share"],
            "met": storm["reconnected_30s_share"] == 1 and storm["resumed_gap_free_share"] == 1,
        }
    return checks


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """naive / pressbox for the figures where smaller is better (deliveries/s: pressbox / naive)."""
    out: dict[str, Any] = {}
    burst_pair = results.get("burst", {})
    if burst_pair:
        b_naive, b_ours = burst_pair.get("naive", {}), burst_pair.get("pressbox", {})
        out["burst_last_p50"] = ratio(b_naive.get("last_ms_p50"), b_ours.get("last_ms_p50"))
        out["burst_last_p99"] = ratio(b_naive.get("last_ms_p99"), b_ours.get("last_ms_p99"))
    pair = results.get("steady", {})
    for phase in ("steady", "slow"):
        naive = pair.get("naive", {}).get(phase, {})
        ours = pair.get("pressbox", {}).get(phase, {})
        if naive and ours:
            out[f"{phase}_latency_p99"] = ratio(naive["latency_ms_p99"], ours["latency_ms_p99"])
            out[f"{phase}_cpu"] = ratio(naive["server_cpu_pct"], ours["server_cpu_pct"])
            out[f"{phase}_deliveries_per_s"] = ratio(
                ours["deliveries_per_s"], naive["deliveries_per_s"]
            )
    if pair.get("naive") and pair.get("pressbox"):
        out["rss_per_conn"] = ratio(
            pair["naive"].get("rss_kib_per_conn"), pair["pressbox"].get("rss_kib_per_conn")
        )
    return out


def print_figures(results: dict[str, dict[str, Any]]) -> None:
    for name, pair in results.items():
        print(f"== {name}")
        keys = [k for k in pair.get("pressbox", {}) if not isinstance(pair["pressbox"][k], dict)]
        nested = [k for k in pair.get("pressbox", {}) if isinstance(pair["pressbox"][k], dict)]
        _rows(keys, pair.get("pressbox", {}), pair.get("naive", {}))
        for phase in nested:
            print(f"  -- {phase}")
            _rows(
                list(pair["pressbox"][phase]),
                pair["pressbox"][phase],
                pair.get("naive", {}).get(phase, {}),
            )


def _rows(keys: list[str], ours: dict[str, Any], naive: dict[str, Any]) -> None:
    print(f"  {'figure':<30}{'pressbox':>14}{'naive':>14}")
    for key in keys:
        print(f"  {key:<30}{ours.get(key)!s:>14}{naive.get(key)!s:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the viewer counts")
    parser.add_argument(
        "--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="which to run"
    )
    parser.add_argument("--mode", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of a steady phase")
    parser.add_argument("--slow-rate", type=int, default=1024, help="slow readers' bytes/s")
    parser.add_argument("--bound", type=float, default=600.0, help="wall-time bound per scenario")
    parser.add_argument(
        "--admission",
        type=float,
        help="restart: new connections/s the server admits (default: Pressbox's own setting)",
    )
    args = parser.parse_args()
    # The children are killed with their process group if the harness is interrupted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results: dict[str, dict[str, Any]] = {}
    run_no = int(time.time()) % 200
    for name in ("burst", "steady", "restart"):
        wanted = name in args.scenario or (name == "steady" and "slow" in args.scenario)
        if not wanted:
            continue
        results[name] = {}
        for mode in args.mode:
            run_no += 1
            log(f"{name} against {mode} (scale {args.scale:g})")
            results[name][mode] = run_scenario(name, mode, args, run_no)
    print_figures(results)
    summary = {"ratios_naive_over_pressbox": ratios(results), "targets": targets(results)}
    print(json.dumps(summary["targets"], indent=1))
    line = {"bench": "fanout", "scale": args.scale, "results": results, **summary}
    print(json.dumps(line, separators=(",", ":")))


if __name__ == "__main__":
    main()
