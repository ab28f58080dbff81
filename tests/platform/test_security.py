"""Unit tests for reference_platform.security (CONTRACT.md section 2)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from datetime import datetime, timezone

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_platform.security import (
    AUDIENCE,
    ISSUER,
    MIN_SECRET_BYTES,
    REQUIRED_CLAIMS,
    PasswordHasher,
    ResolvedSecret,
    SecretMissing,
    SecretTooShort,
    TokenRejected,
    TokenService,
    resolve_jwt_secret,
    resolve_jwt_secret_compat,
)

# 64 bytes so that HS512 tokens crafted with it trigger no key-length warning either.
SECRET = "s" * 64
OTHER_SECRET = "o" * 64
START = 1_750_000_000.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _no_insecure_key_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", jwt.InsecureKeyLengthWarning)
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(clock: FakeClock) -> TokenService:
    return TokenService(SECRET, "testing", clock=clock)


def valid_claims(token_type: str = "access", now: float = START) -> dict:
    return {
        "sub": "user-1",
        "email": "ada@example.com",
        "permissions": ["read", "write"],
        "iat": int(now),
        "exp": int(now) + 900,
        "jti": "0123456789abcdef0123456789abcdef",
        "token_type": token_type,
        "type": token_type,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "env": "testing",
        "sid": "session-1",
    }


def sign(claims: dict, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def b64url(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_raw(payload: bytes, secret: str = SECRET) -> str:
    """HS256 over exact payload bytes (for JSON that jwt.encode would not produce)."""
    header = b64url({"alg": "HS256", "typ": "JWT"})
    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    mac = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def rejection(service: TokenService, token: str, expected: str = "access") -> TokenRejected:
    with pytest.raises(TokenRejected) as info:
        service.decode(token, expected)
    return info.value


# ---------------------------------------------------------------------------- secret resolution

LONG_A = "a" * 32
LONG_B = "b" * 40


def test_current_order_prefers_jwt_secret_key():
    env = {"ENVIRONMENT": "staging", "JWT_SECRET_KEY": LONG_A, "JWT_SECRET_STAGING": LONG_B}
    assert resolve_jwt_secret(env) == ResolvedSecret(LONG_A, "JWT_SECRET_KEY")


def test_current_order_falls_back_to_environment_variable():
    env = {"ENVIRONMENT": "staging", "JWT_SECRET_STAGING": LONG_B}
    assert resolve_jwt_secret(env) == ResolvedSecret(LONG_B, "JWT_SECRET_STAGING")


def test_empty_jwt_secret_key_counts_as_unset():
    env = {"ENVIRONMENT": "staging", "JWT_SECRET_KEY": "", "JWT_SECRET_STAGING": LONG_B}
    assert resolve_jwt_secret(env).source_variable == "JWT_SECRET_STAGING"


def test_environment_defaults_to_development():
    env = {"JWT_SECRET_DEVELOPMENT": LONG_B, "JWT_SECRET_STAGING": LONG_A}
    assert resolve_jwt_secret(env) == ResolvedSecret(LONG_B, "JWT_SECRET_DEVELOPMENT")


def test_compat_order_prefers_environment_variable():
    env = {"ENVIRONMENT": "staging", "JWT_SECRET_KEY": LONG_A, "JWT_SECRET_STAGING": LONG_B}
    assert resolve_jwt_secret_compat(env) == ResolvedSecret(LONG_B, "JWT_SECRET_STAGING")


def test_compat_order_falls_back_to_jwt_secret_key():
    env = {"ENVIRONMENT": "staging", "JWT_SECRET_KEY": LONG_A}
    assert resolve_jwt_secret_compat(env) == ResolvedSecret(LONG_A, "JWT_SECRET_KEY")


@pytest.mark.parametrize("resolve", [resolve_jwt_secret, resolve_jwt_secret_compat])
def test_missing_secret_names_both_variables(resolve):
    with pytest.raises(SecretMissing) as info:
        resolve({"ENVIRONMENT": "staging", "JWT_SECRET_KEY": ""})
    assert "JWT_SECRET_KEY" in str(info.value)
    assert "JWT_SECRET_STAGING" in str(info.value)


@pytest.mark.parametrize("resolve", [resolve_jwt_secret, resolve_jwt_secret_compat])
def test_short_secret_names_variable_not_value(resolve):
    short = "tooshort-secret-value"
    with pytest.raises(SecretTooShort) as info:
        resolve({"ENVIRONMENT": "production", "JWT_SECRET_PRODUCTION": short})
    assert "JWT_SECRET_PRODUCTION" in str(info.value)
    assert short not in str(info.value)


def test_short_preferred_secret_does_not_fall_through():
    env = {"ENVIRONMENT": "staging", "JWT_SECRET_KEY": "x" * 31, "JWT_SECRET_STAGING": LONG_B}
    with pytest.raises(SecretTooShort):
        resolve_jwt_secret(env)


def test_secret_length_is_measured_in_bytes():
    assert resolve_jwt_secret({"JWT_SECRET_KEY": "é" * 16}).value == "é" * 16  # 32 bytes
    with pytest.raises(SecretTooShort):
        resolve_jwt_secret({"JWT_SECRET_KEY": "x" * (MIN_SECRET_BYTES - 1)})


def test_resolved_secret_repr_hides_value():
    assert LONG_A not in repr(ResolvedSecret(LONG_A, "JWT_SECRET_KEY"))


def test_token_service_refuses_short_secret():
    with pytest.raises(SecretTooShort):
        TokenService("x" * 31, "testing")


# ---------------------------------------------------------------------------- passwords


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


@pytest.fixture(scope="module")
def stored_hash(hasher: PasswordHasher) -> str:
    return hasher.hash_password("correct horse battery staple")


def test_password_roundtrip_with_owasp_argon2id_parameters(hasher, stored_hash):
    assert stored_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "correct horse" not in stored_hash
    assert hasher.verify_password(stored_hash, "correct horse battery staple") is True
    assert hasher.needs_rehash(stored_hash) is False


def test_password_hashes_are_salted(hasher, stored_hash):
    assert hasher.hash_password("correct horse battery staple") != stored_hash


def test_wrong_password_is_false(hasher, stored_hash):
    assert hasher.verify_password(stored_hash, "Correct horse battery staple") is False
    assert hasher.verify_password(stored_hash, "") is False


@pytest.mark.parametrize(
    "bad_hash", ["", "not-a-hash", "$argon2id$v=19$m=19456,t=2,p=1$garbage", "$2b$12$abc"]
)
def test_malformed_hash_is_false_not_an_error(hasher, bad_hash):
    assert hasher.verify_password(bad_hash, "whatever") is False


# ---------------------------------------------------------------------------- issuing


def test_issue_produces_exact_claims(service, clock):
    issued = service.issue("user-1", "ada@example.com", ["read", "chat"], "access", "sess-9")
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        issued.token, SECRET, algorithms=["HS256"], audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert set(claims) == set(REQUIRED_CLAIMS) | {"sid"}
    assert claims == issued.claims
    assert claims["sub"] == "user-1"
    assert claims["email"] == "ada@example.com"
    assert claims["permissions"] == ["read", "chat"]
    assert claims["iat"] == int(START)
    assert claims["exp"] == int(START) + 15 * 60
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert claims["token_type"] == claims["type"] == "access"
    assert claims["iss"] == "netra-auth-service"
    assert claims["aud"] == "netra-platform"
    assert claims["env"] == "testing"
    assert claims["sid"] == "sess-9"
    assert len(claims["jti"]) == 32 and int(claims["jti"], 16) >= 0
    assert issued.jti == claims["jti"]
    assert issued.expires_at == datetime.fromtimestamp(claims["exp"], tz=timezone.utc)


def test_issue_pair_shares_session_and_has_distinct_jtis(service):
    access, refresh = service.issue_pair("user-1", "ada@example.com", ["read"], "sess-1")
    assert access.claims["token_type"] == "access"
    assert refresh.claims["token_type"] == "refresh"
    assert access.claims["sid"] == refresh.claims["sid"] == "sess-1"
    assert access.jti != refresh.jti
    assert refresh.claims["exp"] - refresh.claims["iat"] == 7 * 86400
    assert service.decode(access.token, "access")["jti"] == access.jti
    assert service.decode(refresh.token, "refresh")["jti"] == refresh.jti


def test_custom_lifetimes(clock):
    svc = TokenService(SECRET, "testing", access_minutes=5, refresh_days=1, clock=clock)
    access, refresh = svc.issue_pair("u", "u@example.com", [], "s")
    assert access.claims["exp"] - access.claims["iat"] == 300
    assert refresh.claims["exp"] - refresh.claims["iat"] == 86400


# ---------------------------------------------------------------------------- rejection rules


def test_valid_crafted_token_is_accepted(service):
    claims = service.decode(sign(valid_claims()), "access")
    assert claims["sub"] == "user-1"


def test_sid_is_optional_for_tokens_minted_elsewhere(service):
    claims = valid_claims()
    del claims["sid"]
    assert "sid" not in service.decode(sign(claims), "access")


def test_wrong_secret_is_bad_signature(service):
    assert rejection(service, sign(valid_claims(), OTHER_SECRET)).reason == "bad_signature"


def test_tampered_payload_is_bad_signature(service):
    token = sign(valid_claims())
    header, _, signature = token.split(".")
    forged = valid_claims()
    forged["permissions"] = ["admin"]
    assert rejection(service, f"{header}.{b64url(forged)}.{signature}").reason == "bad_signature"


def test_hs512_is_bad_algorithm_even_with_the_right_secret(service):
    token = sign(valid_claims(), SECRET, "HS512")
    assert rejection(service, token).reason == "bad_algorithm"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "AAAA"])
def test_unsigned_alg_none_is_bad_algorithm(service, alg, signature):
    token = f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url(valid_claims())}.{signature}"
    assert rejection(service, token).reason == "bad_algorithm"


@pytest.mark.parametrize("header", [
    {"alg": "HS384", "typ": "JWT"},
    {"alg": "RS256", "typ": "JWT"},
    {"alg": "ES256", "typ": "JWT"},
    {"alg": "hs256", "typ": "JWT"},
    {"alg": "", "typ": "JWT"},
    {"alg": None, "typ": "JWT"},
    {"alg": ["HS256"], "typ": "JWT"},
    {"typ": "JWT"},
])
def test_other_header_algorithms_are_bad_algorithm(service, header):
    # The header is checked before the signature: the real HS256 signature does not help.
    signature = sign(valid_claims()).split(".")[2]
    token = f"{b64url(header)}.{b64url(valid_claims())}.{signature}"
    assert rejection(service, token).reason == "bad_algorithm"


@pytest.mark.parametrize("token", [
    "", "abc", "a.b", "a.b.c", "...", "not a token at all",
    b64url({"alg": "HS256"}) + ".not-json!.sig",
    base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=").decode() + "." + b64url({}) + ".",
    "ÿ.ÿ.ÿ",
])
def test_garbage_is_malformed(service, token):
    assert rejection(service, token).reason == "malformed"


@pytest.mark.parametrize("payload", [b"[1,2,3]", b"\"text\"", b"not json", b"\xff\xfe"])
def test_non_object_payload_is_malformed(service, payload):
    assert rejection(service, sign_raw(payload)).reason == "malformed"


def test_expired(service, clock):
    token = sign(valid_claims())  # exp = START + 900
    clock.now = START + 899
    assert service.decode(token, "access")
    clock.now = START + 900
    err = rejection(service, token)
    assert err.reason == "expired"


def test_issued_tokens_expire_on_the_injected_clock(service, clock):
    access = service.issue("u", "u@example.com", [], "access", "s")
    clock.now = START + 15 * 60 + 1
    assert rejection(service, access.token).reason == "expired"


def test_iat_61_seconds_ahead_is_rejected(service):
    claims = valid_claims(now=START + 61)
    assert rejection(service, sign(claims)).reason == "issued_in_future"


@pytest.mark.parametrize("ahead", [59, 60])
def test_iat_up_to_60_seconds_ahead_is_accepted(service, ahead):
    claims = valid_claims(now=START + ahead)
    assert service.decode(sign(claims), "access")["iat"] == int(START) + ahead


def test_iat_check_uses_injected_clock_not_wall_time(clock):
    # A clock far in the past: a token minted "now" by wall time is far in its future.
    svc = TokenService(SECRET, "testing", clock=FakeClock(1_000_000_000.0))
    assert rejection(svc, sign(valid_claims())).reason == "issued_in_future"


def test_nbf_in_the_future_is_rejected(service):
    claims = valid_claims()
    claims["nbf"] = int(START) + 120
    assert rejection(service, sign(claims)).reason == "issued_in_future"


@pytest.mark.parametrize("iss", ["someone-else", "netra-auth-service ", ["netra-auth-service"]])
def test_wrong_issuer(service, iss):
    claims = valid_claims()
    claims["iss"] = iss
    # jwt.encode refuses a non-string iss, so sign the JSON directly.
    assert rejection(service, sign_raw(json.dumps(claims).encode())).reason == "wrong_issuer"


@pytest.mark.parametrize("aud", ["other-platform", "Netra-Platform", ["other"], 7])
def test_wrong_audience(service, aud):
    claims = valid_claims()
    claims["aud"] = aud
    assert rejection(service, sign(claims)).reason == "wrong_audience"


def test_audience_list_containing_platform_is_accepted(service):
    claims = valid_claims()
    claims["aud"] = ["other", AUDIENCE]
    assert service.decode(sign(claims), "access")["aud"] == ["other", AUDIENCE]


def test_refresh_token_is_not_an_access_token(service):
    _, refresh = service.issue_pair("u", "u@example.com", ["read"], "s")
    assert rejection(service, refresh.token, "access").reason == "wrong_type"


def test_access_token_is_not_a_refresh_token(service):
    access, _ = service.issue_pair("u", "u@example.com", ["read"], "s")
    assert rejection(service, access.token, "refresh").reason == "wrong_type"


@pytest.mark.parametrize("token_type, type_", [("access", "refresh"), ("refresh", "access")])
@pytest.mark.parametrize("expected", ["access", "refresh"])
def test_disagreeing_type_claims_are_wrong_type(service, token_type, type_, expected):
    claims = valid_claims()
    claims["token_type"], claims["type"] = token_type, type_
    assert rejection(service, sign(claims), expected).reason == "wrong_type"


@pytest.mark.parametrize("kind", ["id", "Access", ""])
def test_unknown_token_kind_is_wrong_type(service, kind):
    claims = valid_claims()
    claims["token_type"] = claims["type"] = kind
    assert rejection(service, sign(claims)).reason == "wrong_type"


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_each_missing_claim_is_rejected_and_named(service, claim):
    claims = valid_claims()
    del claims[claim]
    err = rejection(service, sign(claims))
    assert err.reason == "missing_claim"
    assert claim in err.message


@pytest.mark.parametrize("claim", ["sub", "exp", "token_type"])
def test_null_claim_counts_as_missing(service, claim):
    claims = valid_claims()
    claims[claim] = None
    err = rejection(service, sign(claims))
    assert (err.reason, claim in err.message) == ("missing_claim", True)


@pytest.mark.parametrize("claim, value", [
    ("sub", 42), ("sub", ""), ("jti", 7), ("email", ["a"]), ("permissions", "read"),
    ("permissions", [1]), ("iat", "now"), ("exp", True), ("env", 1), ("sid", 5),
])
def test_badly_typed_claims_are_malformed(service, claim, value):
    claims = valid_claims()
    claims[claim] = value
    assert rejection(service, sign(claims)).reason == "malformed"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400"])
def test_non_finite_exp_is_malformed(service, literal):
    payload = json.dumps(valid_claims()).replace(f'"exp": {int(START) + 900}', f'"exp": {literal}')
    assert literal in payload
    assert rejection(service, sign_raw(payload.encode())).reason == "malformed"


def test_rejection_carries_reason_and_message():
    err = TokenRejected("expired", "token has expired")
    assert (err.reason, err.message, str(err)) == ("expired", "token has expired", "token has expired")
    with pytest.raises(ValueError):
        TokenRejected("nope", "x")  # type: ignore[arg-type]


def test_expected_type_must_be_a_known_kind(service):
    with pytest.raises(ValueError):
        service.decode(sign(valid_claims()), "id")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_only_ever_rejected(text):
    svc = TokenService(SECRET, "testing", clock=FakeClock())
    with pytest.raises(TokenRejected):
        svc.decode(text, "access")


@settings(max_examples=50, deadline=None)
@given(
    user_id=st.text(min_size=1, max_size=40),
    email=st.emails(),
    permissions=st.lists(st.text(max_size=20), max_size=6),
    session_id=st.text(min_size=1, max_size=40),
)
def test_issued_pairs_roundtrip(user_id, email, permissions, session_id):
    svc = TokenService(SECRET, "testing", clock=FakeClock())
    access, refresh = svc.issue_pair(user_id, email, permissions, session_id)
    assert svc.decode(access.token, "access") == access.claims
    assert svc.decode(refresh.token, "refresh") == refresh.claims
