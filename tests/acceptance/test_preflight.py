"""Preflight against hostile targets: each ends quickly, as Infrastructure, with the URL and cause."""
import http.server
import socket
import threading
import time

import pytest

from acceptance.client import config
from acceptance.runner import preflight
from acceptance.verify.errors import InfrastructureFailure


def _cfg(url, timeout=1.0):
    return config.load({"base_url": url, "preflight_timeout": str(timeout)}, env={})


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def http_server():
    servers = []

    def start(status, body=b"oops", content_type="text/plain"):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused_connection_is_infrastructure():
    url = f"http://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(InfrastructureFailure) as err:
        preflight.check(_cfg(url))
    assert time.monotonic() - started < 3
    assert str(err.value).startswith("Infrastructure: ") and url in str(err.value)
    assert "could not be reached" in str(err.value)


def test_silent_target_times_out_instead_of_hanging(silent_server):
    started = time.monotonic()
    with pytest.raises(InfrastructureFailure) as err:
        preflight.check(_cfg(silent_server, timeout=1.0))
    assert time.monotonic() - started < 3
    assert "did not answer within" in str(err.value) and silent_server in str(err.value)


def test_http_500_is_unhealthy(http_server):
    url = http_server(500)
    with pytest.raises(InfrastructureFailure, match="not healthy.*answered 500"):
        preflight.check(_cfg(url))


def test_unhealthy_body_names_the_failing_check(http_server):
    url = http_server(503, b'{"status":"unhealthy","checks":{"database":"failed"}}', "application/json")
    with pytest.raises(InfrastructureFailure, match="database"):
        preflight.check(_cfg(url))


def test_healthy_target_passes(http_server):
    url = http_server(200, b'{"status":"healthy","version":"9.9","environment":"staging"}', "application/json")
    result = preflight.check(_cfg(url))
    assert result.healthy and result.version == "9.9"
