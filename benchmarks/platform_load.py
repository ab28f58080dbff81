"""Load benchmark of the reference platform: N users, each running one full supervisor run at once.

    python benchmarks/platform_load.py --users 50,200,500

For each N the script starts a fresh platform (a child process running ``python -m
reference_platform`` at zero pacing, on a new SQLite file, loopback only), then:

1. set-up (not timed): creates N users through ``POST /auth/e2e/test-auth`` (no password
   hashing) and seeds each with a few usage records over several days;
2. connects (timed separately): opens one WebSocket per user and reads its
   ``connection_established`` frame;
3. the measured phase: every user sends ``start_agent`` (agent ``supervisor``) at the same
   moment, from one asyncio event loop, and reads its socket until the supervisor's terminal
   frame. Per run it records the time from sending ``start_agent`` to receiving ``agent_started``
   ("first event") and to the supervisor's ``agent_completed`` ("completion");
4. verification (not timed): opens a fresh socket per user and sends ``resume_run`` with an
   unknown ``last_message_id``, which makes the server replay the run's complete frame list.

Definitions used in the table:

* completed runs: runs whose socket received the supervisor's ``agent_completed``;
* wall s: from the moment the first ``start_agent`` is sent to the last run's completion;
* runs/s: completed runs / wall s;
* connect s: time to open the N sockets (phase 2); client CPU s and server CPU s: CPU time the
  benchmark process and the platform process (all threads) used during the measured phase (when
  client CPU s nears wall s, the client itself is the bottleneck);
* frames lost: over all runs, the number of frames in the server's complete list (the replay)
  that the live socket did not receive, plus frames the live socket received twice, plus runs
  whose live frames arrived in another order than the replay's. It must be 0.

``--base-url URL`` measures a platform that is already running (started with
``E2E_OAUTH_SIMULATION_KEY=load-benchmark-key``) instead of starting one. ``--in-process`` runs the platform in a thread of this process instead (client and server then
share one interpreter lock, which measures the client as much as the server).
``--server-profile FILE`` runs the child platform under cProfile and writes its statistics to FILE
when the platform stops (inspect with ``python -m pstats FILE``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform as host
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
E2E_KEY = "load-benchmark-key"
TERMINAL = ("agent_completed", "agent_error", "agent_stopped")


# ---- the platform under test -------------------------------------------------------------
class ChildPlatform:
    """``python -m reference_platform`` in a child process on a free loopback port."""

    def __init__(self, env: dict[str, str], profile: str | None = None):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [sys.executable]
        if profile:
            command += ["-m", "cProfile", "-o", profile]
        command += ["-m", "reference_platform", "--host", "127.0.0.1", "--port", str(self.port),
                    "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the platform exited: {self.process.stderr.read()}")
            try:
                if httpx.get(self.base_url + "/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the platform did not become ready within 30 s")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the platform process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RemotePlatform:
    """A platform that is already running (``--base-url``); it must have test-auth switched on."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.ws_url = "ws" + self.base_url[4:] + "/ws"

    def cpu_seconds(self) -> float:
        return float("nan")

    def stop(self) -> None:
        pass


class ThreadPlatform:
    """The embedded platform in a thread of this process (``--in-process``)."""

    def __init__(self, env: dict[str, str]):
        sys.path.insert(0, str(ROOT))
        from reference_platform.config import Settings
        from reference_platform.server import EmbeddedPlatform
        self.embedded = EmbeddedPlatform(Settings.from_env(env={**os.environ, **env})).start()
        self.base_url, self.ws_url = self.embedded.base_url, self.embedded.ws_url

    def cpu_seconds(self) -> float:
        return float("nan")  # shares this process: see client CPU s

    def stop(self) -> None:
        self.embedded.stop()


# ---- one simulated user ------------------------------------------------------------------
@dataclass
class UserRun:
    token: str
    ws: object = None
    sent: float = 0.0
    first: float | None = None
    done: float | None = None
    run_id: str | None = None
    frames: list[str] = field(default_factory=list)  # message ids, in arrival order
    outcome: str = "not started"


def usage_records(days: int) -> list[dict]:
    now = datetime.now(timezone.utc)
    records = []
    for d in range(days):
        ts = (now - timedelta(days=d, hours=3)).isoformat().replace("+00:00", "Z")
        records.append({"timestamp": ts, "model": "gpt-4o", "task": "classification", "requests": 2000 + 100 * d,
                        "input_tokens": 900, "output_tokens": 150, "latency_ms": 400 + 10 * d})
        records.append({"timestamp": ts, "model": "claude-sonnet-4", "task": "chat", "requests": 500,
                        "input_tokens": 3000, "output_tokens": 400, "shared_prefix_tokens": 2000,
                        "batchable": d % 2 == 0, "latency_ms": 1200})
    return records


async def make_users(base_url: str, n: int, days: int, concurrency: int) -> list[UserRun]:
    limit = asyncio.Semaphore(concurrency)
    records = usage_records(days)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        async def one(i: int) -> UserRun:
            async with limit:
                r = await http.post("/auth/e2e/test-auth", headers={"X-E2E-Bypass-Key": E2E_KEY},
                                    json={"email": f"load-{i}-{secrets.token_hex(4)}@example.com"})
                r.raise_for_status()
                token = r.json()["access_token"]
                seeded = await http.post("/api/usage", headers={"Authorization": f"Bearer {token}"},
                                         json={"records": records})
                seeded.raise_for_status()
                return UserRun(token)

        return await asyncio.gather(*(one(i) for i in range(n)))


def _connect(ws_url: str, token: str, compression: str | None):
    return connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=60,
                   max_size=None, max_queue=None, ping_interval=None, compression=compression, close_timeout=5)


async def open_sockets(ws_url: str, users: list[UserRun], concurrency: int, compression: str | None) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one(user: UserRun) -> None:
        async with limit:
            user.ws = await _connect(ws_url, user.token, compression)
            welcome = json.loads(await user.ws.recv())
            assert welcome["type"] == "connection_established", welcome

    await asyncio.gather(*(one(u) for u in users))


async def drive(user: UserRun, start: asyncio.Event, timeout: float) -> None:
    await start.wait()
    ws = user.ws
    user.sent = time.perf_counter()
    await ws.send(json.dumps({"type": "start_agent", "payload": {
        "user_request": "Where can we cut our model spend? Check latency too.", "agent": "supervisor"}}))
    try:
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await ws.recv())
                kind = frame["type"]
                if kind == "error":
                    user.outcome = f"error {frame['data'].get('code')}"
                    return
                if "run_id" not in frame:
                    continue  # heartbeat
                if user.run_id is None:
                    user.run_id = frame["run_id"]
                user.frames.append(frame["message_id"])
                if kind == "agent_started" and user.first is None:
                    user.first = time.perf_counter()
                if kind in TERMINAL and frame.get("agent_name") == "supervisor":
                    user.done = time.perf_counter()
                    user.outcome = "completed" if kind == "agent_completed" else kind
                    return
    except TimeoutError:
        user.outcome = "timed out"


async def replay(ws_url: str, user: UserRun, compression: str | None, timeout: float = 60) -> list[str]:
    """The run's complete frame list, as the server replays it to a fresh socket."""
    async with _connect(ws_url, user.token, compression) as ws:
        json.loads(await ws.recv())  # connection_established
        await ws.send(json.dumps({"type": "resume_run", "payload": {"run_id": user.run_id,
                                                                    "last_message_id": "msg_unknown"}}))
        ids = []
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("run_id") != user.run_id:
                    continue
                ids.append(frame["message_id"])
                if frame["type"] in TERMINAL and frame.get("agent_name") == "supervisor":
                    return ids


def lost_frames(live: list[str], complete: list[str]) -> int:
    missing = len(set(complete) - set(live))
    duplicates = len(live) - len(set(live))
    reordered = 0 if [m for m in live if m in set(complete)] == complete else 1
    return missing + duplicates + reordered


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank


@dataclass
class Result:
    users: int
    completed: int
    wall_s: float
    connect_s: float
    first_ms: list[float]
    done_ms: list[float]
    lost: int
    outcomes: dict[str, int]
    client_cpu_s: float
    server_cpu_s: float

    def row(self) -> str:
        f, d = self.first_ms, self.done_ms
        return (f"| {self.users} | {self.completed} | {self.wall_s:.2f} | {self.completed / self.wall_s:.1f} | "
                f"{pct(f, 50):.0f} / {pct(f, 95):.0f} / {pct(f, 99):.0f} | "
                f"{pct(d, 50):.0f} / {pct(d, 95):.0f} / {pct(d, 99):.0f} | {self.lost} | {self.connect_s:.2f} | "
                f"{self.client_cpu_s:.2f} | {self.server_cpu_s:.2f} |")


HEADER = ("| users | completed runs | wall s | runs/s | first event p50 / p95 / p99 ms | "
          "completion p50 / p95 / p99 ms | frames lost | connect s | client CPU s | server CPU s |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


async def measure(running, n: int, args) -> Result:
    base_url, ws_url = running.base_url, running.ws_url
    compression = None if args.compression == "none" else args.compression
    users = await make_users(base_url, n, args.days, args.setup_concurrency)
    t0 = time.perf_counter()
    await open_sockets(ws_url, users, args.connect_concurrency, compression)
    connect_s = time.perf_counter() - t0

    start = asyncio.Event()
    tasks = [asyncio.create_task(drive(u, start, args.timeout)) for u in users]
    await asyncio.sleep(0)  # one turn of the loop: every task is now parked on the start signal
    cpu0, server0 = time.process_time(), running.cpu_seconds()
    start.set()
    await asyncio.gather(*tasks)
    client_cpu_s, server_cpu_s = time.process_time() - cpu0, running.cpu_seconds() - server0
    begin = min(u.sent for u in users)
    end = max((u.done for u in users if u.done), default=begin)
    for u in users:
        await u.ws.close()

    limit = asyncio.Semaphore(args.connect_concurrency)

    async def verify(u: UserRun) -> int:
        if u.run_id is None:
            return 0
        async with limit:
            return lost_frames(u.frames, await replay(ws_url, u, compression))

    lost = sum(await asyncio.gather(*(verify(u) for u in users)))
    outcomes: dict[str, int] = {}
    for u in users:
        outcomes[u.outcome] = outcomes.get(u.outcome, 0) + 1
    done = [u for u in users if u.outcome == "completed"]
    return Result(n, len(done), end - begin, connect_s, [(u.first - u.sent) * 1000 for u in users if u.first],
                  [(u.done - u.sent) * 1000 for u in done], lost, outcomes, client_cpu_s, server_cpu_s)


def run_one(n: int, args) -> Result:
    folder = Path(tempfile.mkdtemp(prefix="platform-load-"))
    env = {"ENVIRONMENT": "development", "JWT_SECRET_KEY": secrets.token_urlsafe(48), "E2E_OAUTH_SIMULATION_KEY": E2E_KEY,
           "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'platform.db'}", "PACING_MIN_MS": "0", "PACING_MAX_MS": "0",
           "PYTHONPATH": str(ROOT)}
    profile = None
    if args.server_profile:
        profile = args.server_profile if len(args.users) == 1 else f"{args.server_profile}.{n}"
    if args.base_url:
        running = RemotePlatform(args.base_url)
    elif args.in_process:
        running = ThreadPlatform(env)
    else:
        running = ChildPlatform(env, profile)
    try:
        return asyncio.run(measure(running, n, args))
    finally:
        running.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", default="50,200,500", help="comma-separated user counts (default 50,200,500)")
    parser.add_argument("--days", type=int, default=4, help="days of usage per user; 2 records a day (default 4)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a run may take (default 120)")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--setup-concurrency", type=int, default=20)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate",
                        help="permessage-deflate as browsers negotiate it (default), or none")
    parser.add_argument("--in-process", action="store_true", help="run the platform in a thread of this process")
    parser.add_argument("--server-profile", metavar="FILE", help="cProfile the child platform into FILE")
    parser.add_argument("--base-url", help="measure a platform already running there (its E2E_OAUTH_SIMULATION_KEY "
                                           f"must be {E2E_KEY!r}) instead of starting one")
    args = parser.parse_args(argv)
    args.users = [int(x) for x in args.users.split(",") if x.strip()]

    print(f"# reference platform under load, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores, Python {host.python_version()}, "
          f"{'in-process' if args.in_process else 'child process'}, compression {args.compression}")
    print(HEADER, flush=True)
    results = []
    for n in args.users:
        result = run_one(n, args)
        results.append(result)
        print(result.row(), flush=True)
        if result.outcomes != {"completed": n}:
            print(f"  outcomes: {result.outcomes}", flush=True)
    return 0 if all(r.lost == 0 and r.completed == r.users for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
