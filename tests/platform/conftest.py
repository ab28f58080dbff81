"""Fixtures for the reference platform's own tests: embedded platforms, clients, users, sockets.

Helpers live in ``platform_kit.py``; everything listens on loopback.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from platform_kit import Api, Session, User, base_env, open_session, platform_in, sqlite_url
from reference_platform.config import Settings
from reference_platform.server import EmbeddedPlatform


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> Iterator[EmbeddedPlatform]:
    """The shared platform at zero pacing. Tests use their own users, so they cannot interfere."""
    with platform_in(tmp_path_factory.mktemp("platform")) as running:
        yield running


@pytest.fixture(scope="session")
def paced_platform(tmp_path_factory) -> Iterator[EmbeddedPlatform]:
    """A shared platform whose runs last long enough (over half a second) to stop, join or resume them."""
    with platform_in(tmp_path_factory.mktemp("paced"), PACING_MIN_MS="15", PACING_MAX_MS="25") as running:
        yield running


@pytest.fixture
def platform_factory(tmp_path) -> Iterator[Callable[..., EmbeddedPlatform]]:
    """Starts dedicated platforms with extra environment settings; stops them after the test."""
    started: list[EmbeddedPlatform] = []

    def start(database_url: str | None = None, **env: str) -> EmbeddedPlatform:
        url = database_url or sqlite_url(tmp_path / f"dedicated-{len(started)}.db")
        running = EmbeddedPlatform(Settings.from_env(env=base_env(url, **env))).start()
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop()


@pytest.fixture(scope="session")
def api(platform) -> Iterator[Api]:
    with Api(platform) as client:
        yield client


@pytest.fixture(scope="session")
def paced_api(paced_platform) -> Iterator[Api]:
    with Api(paced_platform) as client:
        yield client


@pytest.fixture
def user(api) -> User:
    return api.user()


@pytest.fixture
def sessions() -> Iterator[Callable[..., Session]]:
    """Opens sockets (``sessions(platform, token)``) and closes them after the test."""
    opened: list[Session] = []

    def open_(running: EmbeddedPlatform, token: str, **kw: Any) -> Session:
        s = open_session(running, token, **kw)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close()


