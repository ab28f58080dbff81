"""The auth service over REST (CONTRACT section 2 and the login/test-auth details of section 7)."""
from __future__ import annotations

import re
import time

import pytest
from websockets.exceptions import InvalidStatus

from platform_kit import (E2E_KEY, JWT_SECRET, PASSWORD, Api, claims_for, decode, forge, unique_email, unsigned,
                       ws_connect)

DEFAULT_PERMISSIONS = ["read", "write", "chat", "agent:execute"]
CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def assert_error(r, status: int, detail: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if "code" in body:
        assert CODE.match(body["code"]), body
    if detail is not None:
        assert body["detail"] == detail
    return body


def assert_tokens(body: dict, email: str) -> None:
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert set(body["user"]) >= {"id", "email", "name", "permissions"}
    assert "password" not in str(body).lower()
    assert body["user"]["email"] == email.lower()


# ---- register ----------------------------------------------------------------------------
def test_register_answers_201_with_tokens_whose_claims_follow_the_contract(api):
    email = unique_email("Reg").replace("reg", "Reg")
    r = api.http.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "Ada"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert_tokens(body, email)
    assert body["user"]["name"] == "Ada"
    assert body["user"]["permissions"] == DEFAULT_PERMISSIONS

    access, refresh = decode(body["access_token"]), decode(body["refresh_token"])
    assert jwt_header_alg(body["access_token"]) == "HS256"
    for claims, kind in ((access, "access"), (refresh, "refresh")):
        assert claims["sub"] == body["user"]["id"]
        assert claims["email"] == email.lower()
        assert claims["permissions"] == DEFAULT_PERMISSIONS
        assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
        assert abs(claims["iat"] - time.time()) < 60
        assert claims["token_type"] == claims["type"] == kind
        assert claims["iss"] == "netra-auth-service" and claims["aud"] == "netra-platform"
        assert claims["env"] == "development"
        assert isinstance(claims["jti"], str) and claims["jti"]
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 86400
    assert access["jti"] != refresh["jti"]


def test_token_lifetimes_set_in_the_environment_give_whole_second_claims(platform_factory):
    running = platform_factory(ACCESS_TOKEN_MINUTES="15", REFRESH_TOKEN_DAYS="7")
    api = Api(running)
    try:
        body = api.user().body
    finally:
        api.close()
    access, refresh = decode(body["access_token"]), decode(body["refresh_token"])
    assert type(access["exp"]) is int and access["exp"] - access["iat"] == 900
    assert type(refresh["exp"]) is int and refresh["exp"] - refresh["iat"] == 7 * 86400
    assert body["expires_in"] == 900


def jwt_header_alg(token: str) -> str:
    import jwt
    return jwt.get_unverified_header(token)["alg"]


def test_register_without_name_uses_the_mailbox_name(api):
    email = unique_email("noname")
    body = api.register(email).body
    assert body["user"]["name"] == email.split("@")[0]


def test_register_twice_is_409_whatever_the_case_of_the_email(api):
    email = unique_email("dup")
    api.register(email)
    assert_error(api.http.post("/auth/register", json={"email": email, "password": PASSWORD}), 409)
    assert_error(api.http.post("/auth/register", json={"email": email.upper(), "password": PASSWORD}), 409)


@pytest.mark.parametrize("body", [
    {"email": "not-an-email", "password": PASSWORD},
    {"email": "a@b", "password": PASSWORD},
    {"email": "two@@example.com", "password": PASSWORD},
    {"email": "", "password": PASSWORD},
    {"email": 42, "password": PASSWORD},
    {"password": PASSWORD},
    {"email": "short@example.com", "password": "1234567"},
    {"email": "short@example.com", "password": ""},
    {"email": "short@example.com", "password": 12345678},
    {"email": "short@example.com"},
    {"email": "short@example.com", "password": PASSWORD, "name": 7},
])
def test_register_refuses_a_bad_email_or_password_with_422(api, body):
    assert_error(api.http.post("/auth/register", json=body), 422)


def test_register_with_a_password_of_eight_characters_is_accepted(api):
    api.register(password="12345678")


# ---- login -------------------------------------------------------------------------------
def test_login_returns_a_fresh_pair(api):
    user = api.register()
    r = api.http.post("/auth/login", json={"email": user.email.upper(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert_tokens(r.json(), user.email)
    assert r.json()["user"]["id"] == user.id
    assert r.json()["access_token"] != user.access_token


def test_login_failures_say_invalid_credentials_for_wrong_password_and_unknown_email(api):
    user = api.register()
    wrong = api.http.post("/auth/login", json={"email": user.email, "password": "wrong password"})
    unknown = api.http.post("/auth/login", json={"email": unique_email("ghost"), "password": PASSWORD})
    assert_error(wrong, 401, "Invalid credentials")
    assert_error(unknown, 401, "Invalid credentials")
    assert wrong.json() == unknown.json()


def test_a_user_made_by_test_auth_has_no_password_to_sign_in_with(api):
    user = api.user()
    assert_error(api.http.post("/auth/login", json={"email": user.email, "password": PASSWORD}), 401,
                 "Invalid credentials")


def test_five_failures_then_429_with_retry_after_even_for_the_right_password(api):
    user = api.register()
    for _ in range(5):
        assert_error(api.http.post("/auth/login", json={"email": user.email, "password": "nope-nope"}), 401)
    for password in ("nope-nope", PASSWORD):
        r = api.http.post("/auth/login", json={"email": user.email, "password": password})
        assert_error(r, 429)
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    # the limit is per email: another account is unaffected
    other = api.register()
    assert api.http.post("/auth/login", json={"email": other.email, "password": PASSWORD}).status_code == 200


def test_a_successful_login_clears_the_failure_count(api):
    user = api.register()

    def attempt(password: str) -> int:
        return api.http.post("/auth/login", json={"email": user.email, "password": password}).status_code

    assert [attempt("nope-nope") for _ in range(4)] == [401] * 4
    assert attempt(PASSWORD) == 200
    assert [attempt("nope-nope") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429


def test_the_login_limit_lifts_when_the_oldest_failure_is_a_window_old(platform_factory):
    running = platform_factory()
    clock = [1000.0]
    running.app.state.platform.login_limiter.clock = lambda: clock[0]
    api = Api(running)
    try:
        user = api.register()
        for _ in range(5):
            api.http.post("/auth/login", json={"email": user.email, "password": "nope-nope"})
            clock[0] += 1  # failures at 1000..1004
        r = api.http.post("/auth/login", json={"email": user.email, "password": PASSWORD})
        assert_error(r, 429)
        assert r.headers["Retry-After"] == "55"  # the oldest failure (t=1000) is 60 s old at t=1060
        clock[0] = 1059.5
        assert api.http.post("/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 429
        clock[0] = 1060.0
        assert api.http.post("/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    finally:
        api.close()


# ---- refresh -----------------------------------------------------------------------------
def test_refresh_rotates_and_each_refresh_token_works_once(api):
    user = api.user()
    r = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert r.status_code == 200, r.text
    pair = r.json()
    assert_tokens(pair, user.email)
    assert pair["refresh_token"] != user.refresh_token and pair["access_token"] != user.access_token
    assert decode(pair["access_token"])["sid"] == decode(user.access_token)["sid"]
    assert api.http.get("/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200

    assert_error(api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token}), 401)
    again = api.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200
    assert_error(api.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401)


@pytest.mark.parametrize("kind", ["access", "garbage", "expired", "unknown", "forged"])
def test_refresh_refuses_what_is_not_a_live_refresh_token(api, kind):
    user = api.user()
    token = {
        "access": user.access_token,
        "garbage": "not.a.jwt",
        "expired": forge(claims_for(user, token_type="refresh", type="refresh", iat=int(time.time()) - 100,
                                    exp=int(time.time()) - 10)),
        "unknown": forge(claims_for(user, token_type="refresh", type="refresh")),  # well signed, never issued
        "forged": forge(claims_for(user, token_type="refresh", type="refresh"), secret="x" * 40),
    }[kind]
    assert_error(api.http.post("/auth/refresh", json={"refresh_token": token}), 401)


def test_refresh_without_a_token_is_422(api):
    assert_error(api.http.post("/auth/refresh", json={}), 422)


# ---- logout ------------------------------------------------------------------------------
def test_logout_revokes_the_access_token_and_the_logins_refresh_tokens(api, platform):
    user = api.register()
    rotated = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token}).json()
    other_login = api.http.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()

    headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    r = api.http.post("/auth/logout", headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "success"}

    assert_error(api.http.get("/auth/me", headers=headers), 401)
    assert_error(api.http.get("/api/threads", headers=headers), 401)
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(platform, rotated["access_token"])
    assert refused.value.response.status_code == 403
    assert_error(api.http.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]}), 401)
    assert api.http.post("/auth/validate", json={"token": rotated["access_token"]}).json()["valid"] is False
    assert_error(api.http.post("/auth/logout", headers=headers), 401)

    # an older access token of the same login and another login stay valid (section 7)
    assert api.http.get("/auth/me", headers=user.headers).status_code == 200
    other = {"Authorization": f"Bearer {other_login['access_token']}"}
    assert api.http.get("/auth/me", headers=other).status_code == 200
    assert api.http.post("/auth/refresh", json={"refresh_token": other_login["refresh_token"]}).status_code == 200


def test_logout_needs_a_valid_token(api):
    assert_error(api.http.post("/auth/logout"), 401)
    assert_error(api.http.post("/auth/logout", headers={"Authorization": "Bearer nope"}), 401)


# ---- validate and me ---------------------------------------------------------------------
def test_validate_a_valid_access_token(api):
    user = api.user()
    r = api.http.post("/auth/validate", json={"token": user.access_token})
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is True
    assert body["user_id"] == user.id and body["email"] == user.email
    assert body["permissions"] == DEFAULT_PERMISSIONS
    exp = decode(user.access_token)["exp"]
    from datetime import datetime
    assert datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp() == exp


def test_validate_a_refresh_token_only_as_a_refresh_token(api):
    user = api.user()
    assert api.http.post("/auth/validate", json={"token": user.refresh_token, "token_type": "refresh"}
                         ).json()["valid"] is True
    as_access = api.http.post("/auth/validate", json={"token": user.refresh_token}).json()
    assert as_access["valid"] is False and isinstance(as_access["error"], str)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 5000])
def test_validate_answers_200_valid_false_for_junk(api, token):
    r = api.http.post("/auth/validate", json={"token": token})
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is False and isinstance(body["error"], str) and body["error"]


def test_me(api):
    user = api.register(name="Grace")
    r = api.get(user, "/auth/me")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"user_id", "email", "name", "permissions", "created_at"}
    assert body["user_id"] == user.id and body["name"] == "Grace" and body["permissions"] == DEFAULT_PERMISSIONS
    assert body["created_at"].endswith("Z")
    assert_error(api.http.get("/auth/me"), 401)


# ---- e2e test-auth -----------------------------------------------------------------------
def test_test_auth_signs_in_a_new_simulated_user(api):
    email = unique_email("oauth")
    r = api.test_auth(email=email, name="Sim")
    assert r.status_code == 200, r.text
    body = r.json()
    assert_tokens(body, email)
    assert body["user"]["oauth_simulated"] is True
    assert body["user"]["name"] == "Sim"
    assert body["user"]["permissions"] == DEFAULT_PERMISSIONS
    assert decode(body["access_token"])["sub"] == body["user"]["id"]


def test_test_auth_without_a_body_makes_a_user(api):
    r = api.http.post("/auth/e2e/test-auth", headers={"X-E2E-Bypass-Key": E2E_KEY})
    assert r.status_code == 200 and r.json()["user"]["oauth_simulated"] is True


def test_test_auth_with_an_existing_email_signs_in_as_that_user(api):
    registered = api.register()
    body = api.test_auth(email=registered.email.upper()).json()
    assert body["user"]["id"] == registered.id
    assert body["user"]["oauth_simulated"] is True
    assert decode(body["access_token"])["sub"] == registered.id


def test_test_auth_grants_the_permissions_asked_for(api):
    body = api.test_auth(permissions=["read", "chat"]).json()
    assert body["user"]["permissions"] == ["read", "chat"]
    assert decode(body["access_token"])["permissions"] == ["read", "chat"]


@pytest.mark.parametrize("headers", [{}, {"X-E2E-Bypass-Key": "wrong"}, {"X-E2E-Bypass-Key": ""}])
def test_test_auth_with_a_missing_or_wrong_key_is_401(api, headers):
    assert_error(api.http.post("/auth/e2e/test-auth", headers=headers, json={}), 401)


def test_test_auth_is_503_when_the_key_is_unset(platform_factory):
    running = platform_factory(E2E_OAUTH_SIMULATION_KEY=None)
    api = Api(running)
    try:
        assert_error(api.http.post("/auth/e2e/test-auth", headers={"X-E2E-Bypass-Key": E2E_KEY}, json={}), 503)
        assert_error(api.http.post("/auth/e2e/test-auth", json={}), 503)  # 503 before the key check
    finally:
        api.close()


@pytest.mark.parametrize("key", [E2E_KEY, None])
def test_test_auth_is_403_in_production_before_any_other_check(platform_factory, key):
    running = platform_factory(ENVIRONMENT="production", E2E_OAUTH_SIMULATION_KEY=key)
    api = Api(running)
    try:
        for headers in ({"X-E2E-Bypass-Key": E2E_KEY}, {"X-E2E-Bypass-Key": "wrong"}, {}):
            assert_error(api.http.post("/auth/e2e/test-auth", headers=headers, json={}), 403)
    finally:
        api.close()


# ---- every token rejection rule, over REST -----------------------------------------------
REQUIRED = ["sub", "email", "permissions", "iat", "exp", "jti", "token_type", "type", "iss", "aud", "env"]


def rejected_tokens(user) -> dict[str, str]:
    now = int(time.time())
    tokens = {
        "bad signature": forge(claims_for(user), secret="another-secret-of-at-least-32-bytes!!"),
        "tampered payload": _tamper(forge(claims_for(user))),
        "alg none": unsigned(claims_for(user)),
        "alg HS512": forge(claims_for(user), algorithm="HS512"),
        "expired": forge(claims_for(user, iat=now - 120, exp=now - 1)),
        "iat in the future": forge(claims_for(user, iat=now + 120, exp=now + 900)),
        "wrong iss": forge(claims_for(user, iss="someone-else")),
        "wrong aud": forge(claims_for(user, aud="another-platform")),
        "refresh as access": user.refresh_token,
        "token_type refresh": forge(claims_for(user, token_type="refresh", type="refresh")),
        "types disagree": forge(claims_for(user, type="refresh")),
        "unknown user": forge(claims_for(user, sub="no-such-user")),
        "exp out of range": forge(claims_for(user, exp=10**30)),
        "not a jwt": "definitely-not-a-jwt",
    }
    for claim in REQUIRED:
        tokens[f"missing {claim}"] = forge(claims_for(user, **{claim: None}))
    return tokens


def _tamper(token: str) -> str:
    import base64
    import json
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["permissions"] = ["admin"]
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{payload}.{sig}"


def test_a_well_formed_forged_token_is_accepted(api):
    """The control for the rejections below: the forging helper itself makes valid tokens."""
    user = api.user()
    now = int(time.time())
    for token in (forge(claims_for(user)), forge(claims_for(user, iat=now + 30))):
        assert api.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.fixture(scope="module")
def victim(api):
    return api.user()


REJECTION_CASES = [
    "bad signature", "tampered payload", "alg none", "alg HS512", "expired", "iat in the future", "wrong iss",
    "wrong aud", "refresh as access", "token_type refresh", "types disagree", "unknown user", "exp out of range",
    "not a jwt"] + [f"missing {claim}" for claim in REQUIRED]


def test_the_rejection_cases_cover_every_forged_token(victim):
    assert sorted(rejected_tokens(victim)) == sorted(REJECTION_CASES)


@pytest.mark.parametrize("case", REJECTION_CASES)
def test_each_token_rejection_rule_answers_401(api, victim, case):
    token = rejected_tokens(victim)[case]
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (("GET", "/auth/me"), ("GET", "/api/threads"), ("POST", "/auth/logout")):
        assert_error(api.http.request(method, path, headers=headers), 401)
    validated = api.http.post("/auth/validate", json={"token": token})
    assert validated.status_code == 200 and validated.json()["valid"] is False


def test_a_revoked_token_is_rejected_everywhere(api):
    user = api.user()
    assert api.post(user, "/auth/logout").status_code == 200
    assert_error(api.get(user, "/auth/me"), 401)
    assert_error(api.get(user, "/api/usage/summary"), 401)
    assert api.http.post("/auth/validate", json={"token": user.access_token}).json()["valid"] is False


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Token abc", "bearer"])
def test_a_malformed_authorization_header_is_401(api, header):
    assert_error(api.http.get("/auth/me", headers={"Authorization": header}), 401)


def test_the_secret_used_by_the_tests_is_the_platforms(platform):
    assert platform.settings.jwt_secret.get_secret_value() == JWT_SECRET
