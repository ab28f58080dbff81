"""Running the platform: in process on a pre-bound loopback port (tests, the suite) or standalone."""
from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from .app import create_app
from .config import Settings

log = logging.getLogger("reference_platform")


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response waits out the peer's delayed ACK (about 40 ms on Linux).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class EmbeddedPlatform:
    """The reference platform in a background thread of this process.

    ``start()`` binds a free 127.0.0.1 port (or the given one) before the server starts, so the
    URL is known and nothing races for the port; ``stop()`` shuts it down cleanly; ``restart()``
    brings it back on the same port and database, as a deployment restart would.
    """

    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1", port: int = 0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the embedded platform listens on loopback only")
        self.settings = settings or Settings.from_env()
        self.host, self.port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = None
        self._sock: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def start(self, timeout: float = 15) -> "EmbeddedPlatform":
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on",
                                ws="websockets-sansio", ws_max_size=max(4 * self.settings.max_message_bytes, 1 << 20),
                                ws_ping_interval=None, ws_ping_timeout=None, timeout_graceful_shutdown=3)
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"reference-platform-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the reference platform failed to start (see its log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the reference platform did not start within {timeout} s")
            time.sleep(0.01)
        self._sock = sock
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def restart(self) -> "EmbeddedPlatform":
        self.stop()
        return self.start()

    def __enter__(self) -> "EmbeddedPlatform":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

