"""The fuzz lane: refuses a deployment unless told, signs in through the contract's own auth, and
writes Allure results and JUnit (a small run against the embedded platform)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from acceptance.runner import fuzz
from acceptance.verify import contract


def test_a_deployment_is_fuzzed_only_when_allowed(capsys):
    assert fuzz.main(["--base-url", "http://127.0.0.1:9"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_remote_runs_are_bounded_by_default():
    class Args:
        phases, workers, seed = "examples", "1", 1
        results, junit = contract.ROOT / "r", contract.ROOT / "j.xml"
    command = fuzz.schemathesis_command(Args, "https://staging.example.com", dict(fuzz.REMOTE))
    assert command[command.index("--rate-limit") + 1] == "5/s"
    assert command[command.index("--max-time") + 1] == "300"
    assert fuzz.REMOTE["max_requests"] <= 1000


def test_a_small_embedded_run_signs_in_and_reports(tmp_path):
    done = subprocess.run([sys.executable, "-m", "acceptance", "fuzz", "--max-examples", "2", "--phases",
                           "examples,fuzzing", "--results", str(tmp_path / "results"), "--junit",
                           str(tmp_path / "junit.xml")], cwd=contract.ROOT, capture_output=True, text=True,
                          timeout=240)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    # sign-up and sign-in gave every secured call a token: only calls that carry random credentials
    # of their own (sign-in, renewal) may answer nothing but 401
    block = re.search(r"401 Unauthorized \(\d+ operations?\):\n((?:  - .*\n)+)", out)
    only_refused = set(re.findall(r"  - (\S+ \S+)", block.group(1))) if block else set()
    assert only_refused <= {"POST /auth/login", "POST /auth/refresh"}, only_refused
    assert (tmp_path / "junit.xml").exists()
    results = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*-result.json")]
    assert len(results) >= 20 and all(r["status"] == "passed" for r in results)
