"""The Locust load journey: its frame accounting, and a short distributed run (master + 2 workers on
loopback against a reference platform it starts itself) with no failure and no lost frame.

Locust is only ever imported by the processes the run starts (its gevent monkeypatching must not
touch pytest's process)."""
from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import samples

ROOT = Path(__file__).resolve().parents[2]
LOAD = ROOT / "load"


def _journey_module():
    spec = importlib.util.spec_from_file_location("load_journey", LOAD / "journey.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


journey = _journey_module()


# ---------------------------------------------------------------------------- frame accounting
def test_a_run_received_whole_is_clean():
    events = samples.supervisor_run_events("run_a")
    check = journey.compare(events, list(events))
    assert check.clean and check.lost == 0 and check.duplicated == 0 and check.live == check.replayed == len(events)


def test_a_frame_missing_from_the_live_socket_is_lost():
    events = samples.supervisor_run_events("run_a")
    thinking = next(i for i, e in enumerate(events) if e.type == "agent_thinking")
    live = events[:thinking] + events[thinking + 1:]
    check = journey.compare(live, events)
    assert check.lost == 1 and not check.clean
    assert journey.compare(live, None).incomplete_agents == []   # lifecycle alone cannot see a lost thinking frame


def test_a_frame_received_twice_is_duplicated():
    events = samples.supervisor_run_events("run_a")
    check = journey.compare(events[:5] + [events[4]] + events[5:], events)
    assert check.duplicated == 1 and check.lost == 0 and not check.clean


def test_frames_in_another_order_than_published_are_reported():
    events = samples.supervisor_run_events("run_a")
    live = [events[0], events[2], events[1], *events[3:]]
    assert journey.compare(live, events).out_of_order


def test_an_agent_without_its_terminal_frame_has_an_incomplete_lifecycle():
    events = samples.supervisor_run_events("run_a")
    last_sub_terminal = max(i for i, e in enumerate(events)
                            if e.type == "agent_completed" and e.agent_name != "supervisor")
    cut = events[:last_sub_terminal] + events[last_sub_terminal + 1:]
    assert journey.compare(cut, None).incomplete_agents == [events[last_sub_terminal].agent_name]
    assert journey.compare(cut, events).lost == 1


def test_netra_2025_runs_have_one_terminal_frame_and_sub_agents_none():
    """Against a netra-2025 target (N25-12) sub-agents end without a terminal frame; one of their own is
    the incomplete lifecycle, and the top agent still needs its own."""
    events = samples.supervisor_run_events("run_a")
    top = next(e for e in events if e.type == "agent_started").agent_name
    netra_run = [e for e in events if not (e.type == "agent_completed" and e.agent_name != top)]
    assert journey.compare(netra_run, netra_run, one_terminal_per_run=True).clean
    assert journey.compare(netra_run, None).incomplete_agents != []        # the per-agent rule would fail it
    assert journey.compare(events, None, one_terminal_per_run=True).incomplete_agents != []
    no_end = [e for e in netra_run if e.type not in ("agent_completed", "agent_error", "agent_stopped")]
    assert journey.compare(no_end, None, one_terminal_per_run=True).incomplete_agents == [top]


def test_the_journey_runs_against_a_netra_2025_target():
    from acceptance.client import config
    from acceptance.client.rest import HttpClient
    from acceptance.runner import embedded
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0", "platform_dialect": "netra-2025"}, env={}))
    try:
        http = HttpClient()
        body = http.request("POST", f"{cfg.auth_url}/auth/register",
                            json_body={"email": "load.n25@example.test", "password": "password-123"}).body
        outcome = journey.ChatJourney(cfg.ws_url, body["access_token"], platform_dialect="netra-2025",
                                      environment=cfg.environment).run()
        assert outcome.failed_stage is None, outcome.error
        assert outcome.terminal == "agent_completed" and outcome.check.clean, outcome.check.describe()
        assert outcome.check.live == outcome.check.replayed > 0
        canonical_client = journey.ChatJourney(cfg.ws_url, body["access_token"]).run()
        # without the dialect, every sub-agent (no terminal frame of its own, N25-12) counts as incomplete
        assert canonical_client.check is not None and canonical_client.check.incomplete_agents != []
    finally:
        platform.stop()


# ---------------------------------------------------------------------------- a distributed run
def test_a_short_distributed_run_has_no_failure_and_no_lost_frame(tmp_path):
    if importlib.util.find_spec("locust") is None:
        pytest.fail("Locust is not installed in this environment: bin/setup requirements-load.txt")
    out = tmp_path / "load"
    done = subprocess.run([sys.executable, str(LOAD / "run_distributed.py"), "--users", "20", "--spawn-rate", "20",
                           "--run-time", "10", "--workers", "2", "--stop-timeout", "20", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(out.glob("*.log")))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + logs
    report = json.loads((out / "journey.json").read_text())
    assert report["workers"] == 2 and report["users"] == 20
    assert report["users_started"] == report["users_signed_in"] == report["usage_stored"] == 20, report
    assert sorted(w["users_started"] for w in report["by_worker"].values()) == [10, 10], report
    assert report["journeys"] >= 20, report
    assert report["journeys_failed"] == 0 and report["runs_completed"] == report["journeys"], report
    assert report["frames_lost"] == 0 and report["frames_duplicated"] == 0, report
    assert report["frames_unexpected"] == 0 and report["runs_out_of_order"] == 0, report
    assert report["agents_incomplete"] == 0, report
    assert report["frames_received"] == report["frames_replayed"] > 0, report
    with (out / "stats_stats.csv").open(newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    assert rows["Aggregated"]["Failure Count"] == "0", logs
    for name in ("open chat", "first event (agent_started)", "completion (agent_completed)", "frame check"):
        assert int(rows[name]["Request Count"]) == report["journeys"], name
    assert not list(tmp_path.glob("**/*.pid"))


@pytest.mark.parametrize("script", ["run_distributed.py", "locustfile.py", "journey.py", "embedded_target.py"])
def test_load_scripts_name_no_address_but_loopback(script):
    text = (LOAD / script).read_text()
    for private in ("10.", "192.168.", "172.16."):
        assert f"://{private}" not in text
