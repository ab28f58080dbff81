"""No JWT, password or secret value appears anywhere under the reports of a real run.

The run targets a platform this test starts with a known JWT secret and bypass key, passed to the
suite through the environment exactly as a team would for a deployment; the sign-in journeys then
handle tokens, passwords, tickets and keys in every way the suite knows."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reference_platform.config import Settings
from reference_platform.server import EmbeddedPlatform

ROOT = Path(__file__).resolve().parents[2]
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
SECRET = "report-secret-" + "s" * 40
BYPASS = "bypass-key-" + "k" * 20


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    env = {"JWT_SECRET_KEY": SECRET, "E2E_OAUTH_SIMULATION_KEY": BYPASS, "PACING_MIN_MS": "0",
           "PACING_MAX_MS": "2", "PASSWORD_HASH_PROFILE": "light"}
    platform = EmbeddedPlatform(Settings.from_env(env=env)).start()
    results = tmp_path_factory.mktemp("reports") / "allure-results"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "behave", "-f", "null", "--no-summary", "-D", f"base_url={platform.base_url}",
             "-D", f"allure_results={results}", "--tags", "not @embedded-only", "features/sign_in",
             "features/realtime/reconnection.feature"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "JWT_SECRET_KEY": SECRET, "E2E_OAUTH_SIMULATION_KEY": BYPASS})
    finally:
        platform.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return results.parent


def _texts(folder: Path):
    for path in folder.rglob("*"):
        if path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_the_run_left_evidence_to_scan(run):
    attachments = list((run / "allure-results").glob("*-attachment*"))
    assert len(attachments) > 50
    http = [p for p in attachments if p.suffix == ".json" and '"request_headers"' in p.read_text()]
    assert http, "the HTTP exchanges were attached"


def test_no_jwt_anywhere(run):
    leaks = [(p.name, m.group(0)[:30]) for p, text in _texts(run) for m in JWT.finditer(text)]
    assert leaks == []


def test_no_secret_or_key_anywhere(run):
    leaks = [p.name for p, text in _texts(run) if SECRET in text or BYPASS in text]
    assert leaks == []


def test_no_password_anywhere(run):
    passwords = set()
    for path, text in _texts(run):
        passwords.update(re.findall(r"pw-[A-Za-z0-9_-]{16}", text))
    assert passwords == set()


def test_redaction_marks_are_there(run):
    redacted = sum(text.count("<redacted") for _, text in _texts(run))
    assert redacted > 50
