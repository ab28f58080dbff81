"""Load journeys on Locust: users sign in, open the chat, ask a cost question and wait for the answer.

    locust -f load/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000

(``python load/run_distributed.py`` starts a local reference platform, a master and workers for
you; see docs/load.md.) Only ever point it at a target you own.

Each user signs in once (``--sign-in test-auth`` with ``E2E_OAUTH_SIMULATION_KEY`` from the
environment, or ``register``; ``auto`` picks test-auth when the key is set), stores a month of
usage for the cost optimizer to work on, then repeats the journey of :mod:`journey`. Metrics, as
Locust request entries (type ``WS``):

* ``open chat``: the WebSocket handshake up to ``connection_established``;
* ``first event (agent_started)``: from the question sent to the run's ``agent_started``;
* ``completion (agent_completed)``: from the question sent to the run's terminal frame;
* ``frame check``: the replay on a second socket and the comparison; a run with lost, duplicated,
  unexpected or out-of-order frames, or an incomplete agent lifecycle, is a failure of this entry.

Frame counts (received, lost, duplicated, ...) are summed over all workers on the master and
written to ``--journey-report`` (JSON) at the end; any lost or duplicated frame makes the exit
code 1.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
for entry in (str(HERE.parent), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from journey import DEFAULT_QUESTION, VERIFY_MODES, ChatJourney, JourneyOutcome  # noqa: E402
from locust import HttpUser, between, events, task  # noqa: E402
from locust.runners import MasterRunner, WorkerRunner  # noqa: E402

from acceptance.client.config import derive_ws_url  # noqa: E402

log = logging.getLogger("load")
_IDS = re.compile(r"\b(?:msg|run|exec|thread|conn)_[0-9a-f]+…?|#\d+|\b[0-9a-f]{8,}\b|\d+(?:\.\d+)?s\b")
COUNTERS = ("users_started", "users_signed_in", "usage_stored", "journeys", "journeys_failed", "runs_completed",
            "frames_received", "frames_replayed", "frames_lost", "frames_duplicated", "frames_unexpected",
            "runs_out_of_order", "agents_incomplete")
_lock = threading.Lock()
_counts = dict.fromkeys(COUNTERS, 0)      # this process's counts (not yet sent to the master)
_totals = dict.fromkeys(COUNTERS, 0)      # on the master (or a local run): everything reported
_by_worker: dict[str, dict[str, int]] = {}  # on the master: the same, per worker


def _add(**deltas: int) -> None:
    with _lock:
        for key, value in deltas.items():
            _counts[key] += value


def _take() -> dict[str, int]:
    with _lock:
        out = dict(_counts)
        for key in _counts:
            _counts[key] = 0
        return out


@events.init_command_line_parser.add_listener
def _options(parser):
    group = parser.add_argument_group("chat journey")
    group.add_argument("--sign-in", choices=("auto", "test-auth", "register"), default="auto",
                       help="how load users get an account (auto: test-auth when E2E_OAUTH_SIMULATION_KEY is set)")
    group.add_argument("--ws-url", default="", help="the chat WebSocket (default: the host with ws/wss and /ws)")
    group.add_argument("--question", default=DEFAULT_QUESTION)
    group.add_argument("--agent", default="", help="agent to ask (default: the platform's default, supervisor)")
    group.add_argument("--verify", choices=VERIFY_MODES, default="replay",
                       help="replay: compare with a resume_run replay (finds every lost frame); lifecycle: only "
                            "check each agent's lifecycle")
    group.add_argument("--platform-dialect", choices=("canonical", "netra", "netra-2025"), default="canonical",
                       help="the dialect the target speaks, as the suite's -D platform_dialect (netra-2025: the "
                            "handshake of Netra's published client, one terminal frame per run)")
    group.add_argument("--environment", default="development", help="the target's environment name")
    group.add_argument("--first-event-timeout", type=float, default=5.0)
    group.add_argument("--run-timeout", type=float, default=60.0)
    group.add_argument("--usage-days", type=int, default=10, help="days of usage each user stores (0: none)")
    group.add_argument("--journey-wait", default="0.5-1.5", help="seconds between journeys of one user, low-high")
    group.add_argument("--journey-report", default="", help="write the frame accounting (JSON) here at the end")


@events.report_to_master.add_listener
def _report(client_id, data):
    data["journey_counts"] = _take()


@events.worker_report.add_listener
def _merge(client_id, data):
    mine = _by_worker.setdefault(client_id, dict.fromkeys(COUNTERS, 0))
    for key, value in (data.get("journey_counts") or {}).items():
        if key in _totals:
            _totals[key] += value
            mine[key] += value


@events.quitting.add_listener
def _write_report(environment, **_kwargs):
    if isinstance(environment.runner, WorkerRunner):
        return
    for key, value in _take().items():   # a local run: its own counts
        _totals[key] += value
    report = dict(_totals)
    report["users"] = environment.parsed_options.num_users if environment.parsed_options else None
    report["verify"] = environment.parsed_options.verify if environment.parsed_options else None
    report["workers"] = (environment.parsed_options.expect_workers
                         if isinstance(environment.runner, MasterRunner) else 0)
    report["by_worker"] = {f"worker {k + 1}": counts for k, counts in enumerate(_by_worker.values())}
    log.warning("chat journey frame accounting: %s", json.dumps(report))
    path = environment.parsed_options.journey_report if environment.parsed_options else ""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if report["frames_lost"] or report["frames_duplicated"] or report["frames_unexpected"] \
            or report["runs_out_of_order"] or report["agents_incomplete"]:
        environment.process_exit_code = 1


def _usage_records(days: int) -> list[dict]:
    """A team spending on gpt-4o for classification over the last ``days`` days (savings to find)."""
    now = datetime.now(timezone.utc)
    return [{"timestamp": (now - timedelta(days=d + 1, hours=1)).isoformat().replace("+00:00", "Z"),
             "model": "gpt-4o", "task": "classification", "requests": 1000, "input_tokens": 1000,
             "output_tokens": 200, "shared_prefix_tokens": 600, "batchable": d % 2 == 0} for d in range(days)]


def _wait_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


class ChatUser(HttpUser):
    """One person of a team using the chat."""

    def wait_time(self):
        low, high = _wait_range(self.environment.parsed_options.journey_wait)
        return between(low, high)(self)

    def on_start(self):
        _add(users_started=1)
        options = self.environment.parsed_options
        self.ws_url = options.ws_url or derive_ws_url(self.host)
        self.email = f"load.{uuid.uuid4().hex[:16]}@example.test"
        key = os.environ.get("E2E_OAUTH_SIMULATION_KEY", "")
        mode = options.sign_in if options.sign_in != "auto" else ("test-auth" if key else "register")
        if mode == "test-auth":
            if not key:
                raise RuntimeError("--sign-in test-auth needs E2E_OAUTH_SIMULATION_KEY in the environment")
            response = self.client.post("/auth/e2e/test-auth", json={"email": self.email, "name": "Load user"},
                                        headers={"X-E2E-Bypass-Key": key}, name="sign in (test-auth)",
                                        timeout=options.run_timeout)
        else:
            response = self.client.post("/auth/register", json={"email": self.email, "name": "Load user",
                                                                "password": "pw-" + uuid.uuid4().hex},
                                        name="sign in (register)", timeout=options.run_timeout)
        response.raise_for_status()
        self.token = response.json()["access_token"]
        _add(users_signed_in=1)
        if options.usage_days > 0:
            self.client.post("/api/usage", json={"records": _usage_records(options.usage_days)},
                             headers={"Authorization": f"Bearer {self.token}"}, name="store usage",
                             timeout=options.run_timeout).raise_for_status()
            _add(usage_stored=1)

    def _fire(self, name: str, seconds: float | None, error: BaseException | None = None) -> None:
        if error is not None:  # one failure row per kind of error, not per run or socket
            error = RuntimeError(_IDS.sub("<id>", str(error)).split("; ")[0][:300])
        self.environment.events.request.fire(request_type="WS", name=name,
                                              response_time=(seconds or 0.0) * 1000, response_length=0,
                                              exception=error, context={})

    @task
    def ask_a_cost_question(self):
        options = self.environment.parsed_options
        journey = ChatJourney(self.ws_url, self.token, question=options.question, agent=options.agent or None,
                              first_event_timeout=options.first_event_timeout, run_timeout=options.run_timeout,
                              verify=options.verify, platform_dialect=options.platform_dialect,
                              environment=options.environment)
        outcome: JourneyOutcome = journey.run()
        check = outcome.check
        stages = (("open chat", "open chat", outcome.open_s),
                  ("first event", "first event (agent_started)", outcome.first_event_s),
                  ("completion", "completion (agent_completed)", outcome.completion_s),
                  ("frame check", "frame check", outcome.verify_s))
        for stage, name, seconds in stages:
            if stage == outcome.failed_stage:
                self._fire(name, seconds, outcome.error)
                break
            if seconds is None:
                break
            if stage == "frame check" and check is not None and not check.clean:
                self._fire(name, seconds, RuntimeError(f"frames: {check.describe()}"))
            else:
                self._fire(name, seconds)
        _add(journeys=1, journeys_failed=int(outcome.error is not None or (check is not None and not check.clean)),
             runs_completed=int(outcome.terminal == "agent_completed"),
             frames_received=check.live if check else 0, frames_replayed=(check.replayed or 0) if check else 0,
             frames_lost=(check.lost or 0) if check else 0, frames_duplicated=check.duplicated if check else 0,
             frames_unexpected=(check.unexpected or 0) if check else 0,
             runs_out_of_order=int(bool(check and check.out_of_order)),
             agents_incomplete=len(check.incomplete_agents) if check else 0)
