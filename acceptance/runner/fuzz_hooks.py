"""Schemathesis hooks of ``python -m acceptance fuzz`` (loaded by the Schemathesis CLI through
``SCHEMATHESIS_HOOKS=acceptance.runner.fuzz_hooks``; configured by the environment the fuzz command sets).

* Auth is the contract's own: the fuzzer signs up one account (``POST /auth/register``) and signs in
  (``POST /auth/login``) for its bearer token; a call to ``/auth/logout`` gets a token of a fresh
  sign-in, so that signing out does not revoke the token every other call uses.
* ``/auth/e2e/test-auth`` gets the bypass key when the run has one (the embedded platform).
* A hard cap on the number of requests (``ACCEPTANCE_FUZZ_MAX_REQUESTS``): past it every further
  call fails at once instead of reaching the target.
"""
from __future__ import annotations

import os
import secrets
import threading

import httpx
import schemathesis

AUTH_URL = os.environ.get("ACCEPTANCE_FUZZ_AUTH_URL", "").rstrip("/")
BYPASS_KEY = os.environ.get("ACCEPTANCE_FUZZ_BYPASS_KEY") or None
MAX_REQUESTS = int(os.environ.get("ACCEPTANCE_FUZZ_MAX_REQUESTS", "0") or 0)
TIMEOUT = float(os.environ.get("ACCEPTANCE_FUZZ_TIMEOUT_S", "10"))

_lock = threading.Lock()
_state: dict = {"requests": 0, "email": None, "password": None}


class RequestBudgetSpent(RuntimeError):
    pass


def _sign_in() -> str:
    """Signs the fuzzer's account in (signing it up the first time); returns an access token."""
    with _lock:
        with httpx.Client(timeout=TIMEOUT) as http:
            if _state["email"] is None:
                email = f"fuzz-{secrets.token_hex(6)}@example.com"
                password = secrets.token_urlsafe(18)
                signed_up = http.post(f"{AUTH_URL}/auth/register", json={"email": email, "password": password,
                                                                           "name": "Fuzz"})
                if signed_up.status_code not in (200, 201):
                    raise RuntimeError(f"the fuzzer could not sign up at {AUTH_URL}: {signed_up.status_code} "
                                       f"{signed_up.text[:200]}")
                _state.update(email=email, password=password)
            signed_in = http.post(f"{AUTH_URL}/auth/login", json={"email": _state["email"],
                                                                  "password": _state["password"]})
            if signed_in.status_code != 200:
                raise RuntimeError(f"the fuzzer could not sign in at {AUTH_URL}: {signed_in.status_code} "
                                   f"{signed_in.text[:200]}")
            return signed_in.json()["access_token"]


@schemathesis.auth(refresh_interval=600)
class SignUpAndSignIn:
    """The bearer token of the fuzzer's own account."""

    def get(self, case, ctx):
        return _sign_in()

    def set(self, case, data, ctx):
        token = _sign_in() if case.operation.path == "/auth/logout" else data
        case.headers = dict(case.headers or {})
        case.headers["Authorization"] = f"Bearer {token}"
        if BYPASS_KEY and case.operation.path == "/auth/e2e/test-auth":
            case.headers["X-E2E-Bypass-Key"] = BYPASS_KEY


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if not MAX_REQUESTS:
        return
    with _lock:
        _state["requests"] += 1
        spent = _state["requests"]
    if spent > MAX_REQUESTS:
        raise RequestBudgetSpent(f"the fuzz run's budget of {MAX_REQUESTS} requests is spent")
