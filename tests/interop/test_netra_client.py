"""Interoperability: Netra's own published command-line client against the reference platform.

The client is ``netra-zen==1.4.2`` from PyPI, unmodified (``scripts/agent_cli.py`` of its wheel), installed
from ``requirements-netra.txt`` into its own virtual environment ``.venv-netra`` (made here on first use;
see that file for why it is not in ``.venv``). It is run the way its help describes for a custom backend:
``--env development --backend-url http://127.0.0.1:PORT --token <JWT> --message ...``, against an embedded
platform on loopback, and asked a cost question about the worked example's usage (CONTRACT §6: 100,000
classification requests on gpt-4o, 1,000 input and 200 output tokens each). The verdict comes from what
the client PRINTS, never from its exit code: it exits 0 even when it completes nothing.

Nothing leaves loopback: the client is started as ``python -m scripts.agent_cli`` (not through the ``zen``
wrapper, which reports telemetry to Google Cloud), with ``--no-send-logs`` (it would otherwise attach local
AI-assistant logs), a minimal environment (no proxies, no cloud credentials) and a throwaway HOME for its
token and thread caches. In development mode every address it uses derives from ``--backend-url``.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from acceptance.journeys.usage_data import spread
from reference_platform.config import Settings
from reference_platform.server import EmbeddedPlatform

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements-netra.txt"
VENV = ROOT / ".venv-netra"
QUESTION = "How much can my team save on our AI spend?"
SAVING = re.compile(r"saves \$423\.00 a month")
INSTALL_TIMEOUT_S, CLIENT_TIMEOUT_S = 600, 120


def client_python() -> Path:
    """The interpreter of .venv-netra, (re)installed when requirements-netra.txt changed."""
    python = VENV / "bin" / "python"
    stamp = VENV / f".installed-{hashlib.sha1(REQUIREMENTS.read_bytes()).hexdigest()[:12]}"
    if not stamp.exists():
        if not python.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True, timeout=INSTALL_TIMEOUT_S)
        stamp.touch()
    return python


@pytest.fixture(scope="module")
def netra_client() -> Path:
    return client_python()


def start_platform(dialect: str, tmp_path: Path, variations: str = "") -> EmbeddedPlatform:
    env = {"PLATFORM_DIALECT": dialect, "PASSWORD_HASH_PROFILE": "light", "PACING_MIN_MS": "1",
           "PACING_MAX_MS": "3", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}",
           "PLATFORM_VARIATIONS": variations}
    return EmbeddedPlatform(Settings.from_env(env=env)).start()


def worked_example_user(platform: EmbeddedPlatform) -> str:
    """A fresh account holding the worked example's month of usage; returns its access token."""
    with httpx.Client(base_url=platform.base_url, timeout=10) as http:
        signed_up = http.post("/auth/register", json={"email": "zen.user@example.test", "password": "zen-password-1",
                                                       "name": "Zen User"})
        assert signed_up.status_code in (200, 201), signed_up.text
        token = signed_up.json()["access_token"]
        records = spread(datetime.now(timezone.utc), 100_000, 10, model="gpt-4o", task="classification",
                         input_tokens=1000, output_tokens=200)
        stored = http.post("/api/usage", json={"records": records}, headers={"Authorization": f"Bearer {token}"})
        assert stored.status_code == 201 and stored.json()["accepted"] == len(records), stored.text
    return token


def ask(python: Path, platform: EmbeddedPlatform, token: str, home: Path) -> str:
    """Runs the unmodified client once; returns everything it printed."""
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_DATA_HOME": str(home),
           "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "COLUMNS": "240", "OTEL_SDK_DISABLED": "true"}
    done = subprocess.run(
        [str(python), "-m", "scripts.agent_cli", "--env", "development", "--backend-url", platform.base_url,
         "--token", token, "--no-send-logs", "--wait", "60", "--message", QUESTION],
        cwd=home, env=env, capture_output=True, text=True, encoding="utf-8", errors="replace",
        timeout=CLIENT_TIMEOUT_S, stdin=subprocess.DEVNULL)
    output = done.stdout + done.stderr
    sys.stdout.write(f"--- netra client output (exit {done.returncode}) ---\n{output}\n")  # shown on failure
    return output.replace(token, "<token>")


@pytest.mark.timeout(INSTALL_TIMEOUT_S + 300)  # the first test also installs the client (once)
@pytest.mark.parametrize("variations", ["", "all"], ids=["default", "all-variations"])
def test_the_published_netra_client_gets_the_saving_from_the_platform_in_netra_2025(netra_client, tmp_path,
                                                                                   variations):
    """Also on a platform making every conforming choice (docs/variations.md), those the netra-2025 dialect
    leaves open included: which entry is echoed, when the offered thread is created, which run id is used."""
    platform = start_platform("netra-2025", tmp_path, variations)
    try:
        token = worked_example_user(platform)
        output = ask(netra_client, platform, token, tmp_path / "home")
        assert SAVING.search(output), f"the client did not show the saving of $423.00 a month:\n{output[-3000:]}"
        assert "Fully connected: Handshake ✓ | connection_established ✓" in output, output[-3000:]
        # the answer came from this platform, in the thread its handshake offered
        with httpx.Client(base_url=platform.base_url, timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            threads = http.get("/api/threads").json()["threads"]
            assert len(threads) == 1 and threads[0]["id"] in output, threads
            messages = http.get(f"/api/threads/{threads[0]['id']}/messages").json()["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"] and messages[0]["content"] == QUESTION
        assert SAVING.search(messages[1]["content"]), messages[1]
    finally:
        platform.stop()


@pytest.mark.timeout(INSTALL_TIMEOUT_S + 300)
def test_the_same_client_completes_nothing_against_the_canonical_dialect(netra_client, tmp_path):
    """The control: the check above can fail. Without the handshake the client gives up before asking."""
    platform = start_platform("canonical", tmp_path)
    try:
        output = ask(netra_client, platform, worked_example_user(platform), tmp_path / "home")
        assert not SAVING.search(output), output[-3000:]
        assert "Server not ready to process messages" in output, output[-3000:]
    finally:
        platform.stop()
