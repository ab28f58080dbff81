"""The suite against a target that is down: stops at once, non-zero, one clear message, in the report."""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _behave(tmp_path, *args, timeout=60):
    results = tmp_path / "allure-results"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "plain", "-D", f"allure_results={results}", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started, results


def _broken_results(results: Path):
    out = []
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text())
        if data["status"] == "broken":
            out.append(data)
    return out


@pytest.fixture
def silent_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def test_unreachable_target_stops_the_run_quickly(tmp_path):
    done, seconds, results = _behave(tmp_path, "-D", "base_url=http://127.0.0.1:9")
    assert done.returncode != 0
    assert seconds < 10, f"took {seconds:.1f} s"
    output = done.stdout + done.stderr
    assert output.count("the target http://127.0.0.1:9 is not usable") == 1, output
    assert "RUN STOPPED. Infrastructure: preflight" in output
    assert "0 scenarios passed" in output
    broken = _broken_results(results)
    assert len(broken) == 1 and broken[0]["statusDetails"]["message"].startswith("Infrastructure: preflight"), broken


def test_silent_target_does_not_hang_the_run(tmp_path, silent_port):
    done, seconds, results = _behave(tmp_path, "-D", f"base_url=http://127.0.0.1:{silent_port}",
                                     "-D", "preflight_timeout=2")
    assert done.returncode != 0
    assert seconds < 10, f"took {seconds:.1f} s"
    assert "did not answer within 2" in done.stdout + done.stderr
    assert _broken_results(results)[0]["statusDetails"]["message"].startswith("Infrastructure: ")


def test_target_answering_500_stops_the_run_as_infrastructure(tmp_path):
    import http.server
    import threading

    class Broken(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"oops!")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done, seconds, results = _behave(tmp_path, "-D", f"base_url=http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode != 0 and seconds < 10
    assert "is not healthy: GET /health answered 500" in done.stdout + done.stderr
    assert _broken_results(results)[0]["statusDetails"]["message"].startswith("Infrastructure: ")
