"""`python -m reference_platform`: serves on the given port, stops cleanly, refuses bad settings."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from platform_kit import E2E_KEY, JWT_SECRET
from reference_platform.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_it_serves_standalone_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "JWT_SECRET_KEY": JWT_SECRET, "E2E_OAUTH_SIMULATION_KEY": E2E_KEY,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'standalone.db'}", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "reference_platform", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready within 20 s"
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "healthy"
        signed_in = httpx.post(f"http://127.0.0.1:{port}/auth/e2e/test-auth", headers={"X-E2E-Bypass-Key": E2E_KEY})
        assert signed_in.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"ws://127.0.0.1:{port}/ws" in out and "jwt secret from JWT_SECRET_KEY" in out
    assert JWT_SECRET not in out + err


@pytest.mark.parametrize("env, message", [
    ({"JWT_SECRET_KEY": "too-short"}, "JWT_SECRET_KEY is too short"),
    ({"PLATFORM_DIALECT": "klingon"}, "PLATFORM_DIALECT"),
    ({"PLATFORM_FAULTS": "no_such_fault"}, "unknown fault"),
    ({"PACING_MIN_MS": "fast"}, "PACING_MIN_MS"),
    ({"PACING_MIN_MS": "50", "PACING_MAX_MS": "10"}, "pacing"),
])
def test_bad_settings_stop_it_at_start_up_with_exit_code_2(monkeypatch, capsys, env, message):
    for name in ("JWT_SECRET_KEY", "PLATFORM_DIALECT", "PLATFORM_FAULTS", "PACING_MIN_MS", "PACING_MAX_MS",
                 "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--port", "1"]) == 2
    err = capsys.readouterr().err
    assert message in err and "too-short" not in err
