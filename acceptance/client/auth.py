"""The auth service as a client sees it, and tokens minted or forged from a secret.

Forged tokens exist to prove the platform rejects them (CONTRACT section 2); every kind of
forgery is named so a scenario outline can list them in business words.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from acceptance.client.rest import HttpClient, Response, Transcript

ISSUER = "netra-auth-service"
AUDIENCE = "netra-platform"


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: dict[str, Any]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> "TokenPair":
        return cls(body["access_token"], body["refresh_token"], int(body["expires_in"]), dict(body["user"]))


class AuthClient:
    """CONTRACT section 2 calls against ``auth_url``."""

    def __init__(self, http: HttpClient, auth_url: str, transcript: Transcript | None = None, actor: str | None = None):
        self.http, self.auth_url, self.transcript, self.actor = http, auth_url.rstrip("/"), transcript, actor

    def _post(self, path: str, body: Any = None, token: str | None = None, headers: dict | None = None) -> Response:
        return self.http.request("POST", self.auth_url + path, transcript=self.transcript, actor=self.actor,
                                 json_body=body, token=token, headers=headers)

    def register(self, email: str, password: str, name: str | None = None) -> Response:
        body = {"email": email, "password": password}
        if name:
            body["name"] = name
        return self._post("/auth/register", body)

    def login(self, email: str, password: str) -> Response:
        return self._post("/auth/login", {"email": email, "password": password})

    def refresh(self, refresh_token: str) -> Response:
        return self._post("/auth/refresh", {"refresh_token": refresh_token})

    def logout(self, access_token: str) -> Response:
        return self._post("/auth/logout", token=access_token)

    def validate(self, token: str, token_type: str = "access") -> Response:
        return self._post("/auth/validate", {"token": token, "token_type": token_type})

    def me(self, access_token: str) -> Response:
        return self.http.request("GET", self.auth_url + "/auth/me", transcript=self.transcript, actor=self.actor,
                                 token=access_token)

    def test_auth(self, bypass_key: str | None, email: str | None = None, name: str | None = None,
                  permissions: list[str] | None = None) -> Response:
        body: dict[str, Any] = {}
        if email:
            body["email"] = email
        if name:
            body["name"] = name
        if permissions is not None:
            body["permissions"] = permissions
        headers = {"X-E2E-Bypass-Key": bypass_key} if bypass_key is not None else {}
        return self._post("/auth/e2e/test-auth", body, headers=headers)


# ---- minting and forging ------------------------------------------------------------------
FORGERIES = {
    "a wrong signature": "bad_signature",
    "no signature algorithm": "alg_none",
    "a different algorithm": "alg_hs512",
    "an expired lifetime": "expired",
    "an issue time in the future": "future_iat",
    "a foreign issuer": "wrong_issuer",
    "a foreign audience": "wrong_audience",
    "a refresh token in place of an access token": "refresh_as_access",
    "no expiry claim": "missing_exp",
    "no subject claim": "missing_sub",
    "no token id claim": "missing_jti",
    "no token type claim": "missing_token_type",
    "no permissions claim": "missing_permissions",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenForge:
    """Mints contract-shaped tokens from the target's secret, and breaks them on purpose."""

    def __init__(self, secret: str, environment: str = "development", clock=time.time):
        self.secret, self.environment, self.clock = secret, environment, clock

    def claims(self, user_id: str, email: str, permissions: list[str] | None = None, token_type: str = "access",
               lifetime_s: float = 900, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock())
        claims = {"sub": user_id, "email": email,
                  "permissions": permissions if permissions is not None else ["read", "write", "chat", "agent:execute"],
                  "iat": now, "exp": int(now + lifetime_s), "jti": uuid.uuid4().hex, "token_type": token_type,
                  "type": token_type, "iss": ISSUER, "aud": AUDIENCE, "env": self.environment}
        claims.update(overrides)
        return claims

    def mint(self, user_id: str, email: str, **kwargs: Any) -> str:
        return jwt.encode(self.claims(user_id, email, **kwargs), self.secret, algorithm="HS256")

    def forge(self, kind: str, user_id: str, email: str) -> str:
        """A token that is wrong in exactly one way (``kind`` from ``FORGERIES``' values)."""
        now = int(self.clock())
        if kind == "bad_signature":
            return jwt.encode(self.claims(user_id, email), "x" * 48 + "not-the-platform-secret", algorithm="HS256")
        if kind == "alg_none":
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            payload = _b64(json.dumps(self.claims(user_id, email)).encode())
            return f"{header}.{payload}."
        if kind == "alg_hs512":
            return jwt.encode(self.claims(user_id, email), self.secret, algorithm="HS512")
        if kind == "expired":
            return self.mint(user_id, email, iat=now - 3600, exp=now - 60)
        if kind == "future_iat":
            return self.mint(user_id, email, iat=now + 600, exp=now + 1500)
        if kind == "wrong_issuer":
            return self.mint(user_id, email, iss="someone-else")
        if kind == "wrong_audience":
            return self.mint(user_id, email, aud="another-platform")
        if kind == "refresh_as_access":
            return self.mint(user_id, email, token_type="refresh")
        if kind.startswith("missing_"):
            claims = self.claims(user_id, email)
            claims.pop(kind[len("missing_"):])
            return jwt.encode(claims, self.secret, algorithm="HS256")
        raise ValueError(f"unknown forgery {kind!r}; known: {', '.join(FORGERIES.values())}")

    @staticmethod
    def peek(token: str) -> dict[str, Any]:
        """The claims without verification (for reading ``exp``/``sub`` of a token we hold)."""
        return jwt.decode(token, options={"verify_signature": False})
