"""Secrets, password hashing and JWTs for the reference platform (CONTRACT.md section 2).

Pure and synchronous: no web framework, no database, no global state. The web layer owns
revocation (``jti``), rate limiting and persistence; this module only answers "which secret",
"does this password match" and "is this token structurally and cryptographically acceptable".
"""
from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Iterable, Literal, get_args

import argon2
import jwt
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ALGORITHM",
    "AUDIENCE",
    "DEFAULT_ENVIRONMENT",
    "IAT_FUTURE_LEEWAY_SECONDS",
    "ISSUER",
    "MIN_SECRET_BYTES",
    "OPTIONAL_CLAIMS",
    "REJECTION_REASONS",
    "REQUIRED_CLAIMS",
    "TOKEN_TYPES",
    "IssuedToken",
    "PasswordHasher",
    "RejectionReason",
    "ResolvedSecret",
    "SecretError",
    "SecretMissing",
    "SecretTooShort",
    "TokenRejected",
    "TokenService",
    "TokenType",
    "resolve_jwt_secret",
    "resolve_jwt_secret_compat",
]

ALGORITHM: Final = "HS256"
ISSUER: Final = "netra-auth-service"
AUDIENCE: Final = "netra-platform"
MIN_SECRET_BYTES: Final = 32
IAT_FUTURE_LEEWAY_SECONDS: Final = 60
DEFAULT_ENVIRONMENT: Final = "development"

TokenType = Literal["access", "refresh"]
TOKEN_TYPES: Final[tuple[str, ...]] = ("access", "refresh")

RejectionReason = Literal[
    "malformed",
    "bad_signature",
    "bad_algorithm",
    "expired",
    "issued_in_future",
    "wrong_issuer",
    "wrong_audience",
    "wrong_type",
    "missing_claim",
]
REJECTION_REASONS: Final[tuple[str, ...]] = get_args(RejectionReason)

#: Claims every accepted token must carry (a claim whose value is JSON ``null`` counts as missing).
REQUIRED_CLAIMS: Final[tuple[str, ...]] = (
    "sub",
    "email",
    "permissions",
    "iat",
    "exp",
    "jti",
    "token_type",
    "type",
    "iss",
    "aud",
    "env",
)
#: Claims this service always mints but does not demand from tokens minted by others.
OPTIONAL_CLAIMS: Final[tuple[str, ...]] = ("sid",)

_KEY_VARIABLE: Final = "JWT_SECRET_KEY"
_ENV_VARIABLE_PREFIX: Final = "JWT_SECRET_"


# --------------------------------------------------------------------------------------------
# Secret resolution
# --------------------------------------------------------------------------------------------


class SecretError(Exception):
    """Base class for JWT secret configuration problems. Messages never contain a secret."""


class SecretMissing(SecretError):
    """Neither candidate variable holds a non-empty secret."""

    def __init__(self, variables: Sequence[str]) -> None:
        self.variables = tuple(variables)
        super().__init__(
            "No JWT secret configured: set " + " or ".join(self.variables) + " (non-empty)"
        )


class SecretTooShort(SecretError):
    """The chosen secret is shorter than :data:`MIN_SECRET_BYTES` bytes (UTF-8)."""

    def __init__(self, variable: str | None, length: int) -> None:
        self.variable = variable
        self.length = length
        where = variable if variable is not None else "JWT secret"
        super().__init__(
            f"{where} is too short: {length} bytes, at least {MIN_SECRET_BYTES} required"
        )


@dataclass(frozen=True)
class ResolvedSecret:
    """A JWT secret and the environment variable it was read from."""

    value: str = field(repr=False)
    source_variable: str


def _secret_bytes(secret: str) -> int:
    return len(secret.encode("utf-8"))


def _environment_variable(env: Mapping[str, str]) -> str:
    environment = env.get("ENVIRONMENT") or DEFAULT_ENVIRONMENT
    return _ENV_VARIABLE_PREFIX + environment.strip().upper()


def _resolve(env: Mapping[str, str], order: Sequence[str]) -> ResolvedSecret:
    for variable in order:
        value = env.get(variable)
        if value:  # unset and empty are treated alike
            length = _secret_bytes(value)
            if length < MIN_SECRET_BYTES:
                raise SecretTooShort(variable, length)
            return ResolvedSecret(value=value, source_variable=variable)
    raise SecretMissing(order)


def resolve_jwt_secret(env: Mapping[str, str]) -> ResolvedSecret:
    """Current order: ``JWT_SECRET_KEY``, else ``JWT_SECRET_<ENVIRONMENT>``.

    ``ENVIRONMENT`` defaults to ``development``. The first non-empty candidate decides; if it is
    shorter than 32 bytes this raises :class:`SecretTooShort` (no fall-through to the next one).
    """
    return _resolve(env, (_KEY_VARIABLE, _environment_variable(env)))


def resolve_jwt_secret_compat(env: Mapping[str, str]) -> ResolvedSecret:
    """Order of deployments before 2025-09-16: ``JWT_SECRET_<ENVIRONMENT>``, else ``JWT_SECRET_KEY``."""
    return _resolve(env, (_environment_variable(env), _KEY_VARIABLE))


# --------------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------------


class PasswordHasher:
    """argon2id with the OWASP minimum parameters (m=19456 KiB, t=2, p=1).

    Each hash carries its own random salt and its parameters, so hashes made with other
    parameters still verify.
    """

    TIME_COST: Final = 2
    MEMORY_COST_KIB: Final = 19456
    PARALLELISM: Final = 1
    # "light": still a salted argon2id hash, at a cost fit for a throwaway test platform that signs
    # up hundreds of users a minute (the acceptance suite's embedded platform); never for real users.
    PROFILES: Final = {"owasp": (2, 19456), "light": (1, 1024)}

    def __init__(self, profile: str = "owasp") -> None:
        if profile not in self.PROFILES:
            raise ValueError(f"password hash profile must be one of {', '.join(self.PROFILES)}")
        time_cost, memory_cost = self.PROFILES[profile]
        self.profile = profile
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=self.PARALLELISM,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )

    def hash_password(self, password: str) -> str:
        """Return a PHC-format argon2id hash (``$argon2id$v=19$m=19456,t=2,p=1$...``)."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        return self._hasher.hash(password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; False on mismatch or any malformed input. Never raises."""
        if not isinstance(password_hash, str) or not isinstance(password, str):
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError, ValueError, TypeError):
            # VerifyMismatchError is a VerificationError; malformed hashes give InvalidHashError.
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when ``password_hash`` was made with other parameters (or is unreadable)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError, TypeError):
            return True


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


class TokenRejected(Exception):
    """A token failed :meth:`TokenService.decode`. ``reason`` is one of :data:`REJECTION_REASONS`."""

    def __init__(self, reason: RejectionReason, message: str) -> None:
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        self.reason: RejectionReason = reason
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"TokenRejected(reason={self.reason!r}, message={self.message!r})"


@dataclass(frozen=True)
class IssuedToken:
    token: str = field(repr=False)
    jti: str
    expires_at: datetime  # timezone-aware UTC, equal to the ``exp`` claim
    claims: dict[str, Any]


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _check_token_type(token_type: str) -> None:
    if token_type not in TOKEN_TYPES:
        raise ValueError(f"token_type must be 'access' or 'refresh', not {token_type!r}")


class TokenService:
    """Mints and checks HS256 JWTs; every time decision uses the injected ``clock``."""

    def __init__(
        self,
        secret: str,
        environment: str,
        access_minutes: int = 15,
        refresh_days: int = 7,
        clock: Callable[[], float] = time.time,
        waived: Iterable[str] = (),
    ) -> None:
        """``waived``: rejection reasons NOT enforced. Only the fault catalogue passes any (a named
        regression such as "expired tokens are accepted"); a normal platform waives nothing."""
        if not isinstance(secret, str):
            raise TypeError("secret must be a str")
        length = _secret_bytes(secret)
        if length < MIN_SECRET_BYTES:
            raise SecretTooShort(None, length)
        if access_minutes <= 0 or refresh_days <= 0:
            raise ValueError("token lifetimes must be positive")
        self._secret = secret
        self.environment = environment
        self.access_minutes = access_minutes
        self.refresh_days = refresh_days
        self._clock = clock
        unknown = set(waived) - set(REJECTION_REASONS)
        if unknown:
            raise ValueError(f"unknown rejection reasons: {sorted(unknown)}")
        self._waived = frozenset(waived)

    def _enforced(self, reason: str) -> bool:
        return reason not in self._waived

    def __repr__(self) -> str:  # never show the secret
        return (
            f"TokenService(environment={self.environment!r}, "
            f"access_minutes={self.access_minutes}, refresh_days={self.refresh_days})"
        )

    @property
    def access_ttl_seconds(self) -> int:
        return self.access_minutes * 60

    @property
    def refresh_ttl_seconds(self) -> int:
        return self.refresh_days * 86400

    def lifetime_seconds(self, token_type: TokenType) -> int:
        _check_token_type(token_type)
        return self.access_ttl_seconds if token_type == "access" else self.refresh_ttl_seconds

    # -- issuing -----------------------------------------------------------------------------

    def issue(
        self,
        user_id: str,
        email: str,
        permissions: list[str],
        token_type: TokenType,
        session_id: str,
    ) -> IssuedToken:
        _check_token_type(token_type)
        if not isinstance(session_id, str) or not session_id:
            raise ValueError("session_id must be a non-empty str")
        iat = int(self._clock())
        exp = iat + self.lifetime_seconds(token_type)
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "email": email,
            "permissions": list(permissions),
            "iat": iat,
            "exp": exp,
            "jti": jti,
            "token_type": token_type,
            "type": token_type,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "env": self.environment,
            "sid": session_id,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(
            token=token,
            jti=jti,
            expires_at=datetime.fromtimestamp(exp, tz=timezone.utc),
            claims=dict(claims),
        )

    def issue_pair(
        self,
        user_id: str,
        email: str,
        permissions: list[str],
        session_id: str,
    ) -> tuple[IssuedToken, IssuedToken]:
        """(access, refresh) for one login; both carry ``sid=session_id``."""
        access = self.issue(user_id, email, permissions, "access", session_id)
        refresh = self.issue(user_id, email, permissions, "refresh", session_id)
        return access, refresh

    # -- checking ----------------------------------------------------------------------------

    def decode(self, token: str, expected_type: TokenType) -> dict[str, Any]:
        """Return the claims of an acceptable token or raise :class:`TokenRejected`.

        Checks, in order: token shape (malformed); header ``alg`` is exactly HS256, before any
        signature work (bad_algorithm); signature (bad_signature); every required claim present
        (missing_claim); claim types (malformed); ``iss`` (wrong_issuer); ``aud``
        (wrong_audience; a string, or a list containing the audience); ``exp`` <= now
        (expired); ``iat`` or ``nbf`` more than 60 s after now (issued_in_future); ``token_type``
        and ``type`` equal and the expected kind (wrong_type). Revocation is the caller's job.
        """
        _check_token_type(expected_type)
        if not isinstance(token, str) or not token:
            raise TokenRejected("malformed", "token must be a non-empty string")
        if not token.isascii():
            raise TokenRejected("malformed", "token must be ASCII (base64url segments)")

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected("malformed", f"token is not a JWS compact serialization: {exc}")
        alg = header.get("alg")
        if alg != ALGORITHM and self._enforced("bad_algorithm"):
            raise TokenRejected("bad_algorithm", f"algorithm {alg!r} is not allowed; only HS256")

        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={
                    # Signature only: every claim check below uses the injected clock.
                    "verify_signature": alg == ALGORITHM and self._enforced("bad_signature"),
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                    "require": [],
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidSignatureError:
            raise TokenRejected("bad_signature", "signature verification failed") from None
        except jwt.InvalidAlgorithmError as exc:  # defensive; the header check runs first
            raise TokenRejected("bad_algorithm", str(exc)) from None
        except jwt.PyJWTError as exc:
            raise TokenRejected("malformed", f"token could not be decoded: {exc}") from None

        self._check_claims(claims, expected_type)
        return claims

    def _check_claims(self, claims: dict[str, Any], expected_type: TokenType) -> None:
        for name in REQUIRED_CLAIMS:
            if claims.get(name) is None:
                raise TokenRejected("missing_claim", f"required claim {name!r} is missing")

        for name in ("sub", "jti"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise TokenRejected("malformed", f"claim {name!r} must be a non-empty string")
        for name in ("email", "env", "token_type", "type"):
            if not isinstance(claims[name], str):
                raise TokenRejected("malformed", f"claim {name!r} must be a string")
        permissions = claims["permissions"]
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise TokenRejected("malformed", "claim 'permissions' must be a list of strings")
        for name in ("iat", "exp"):
            if not _is_number(claims[name]):
                raise TokenRejected("malformed", f"claim {name!r} must be a number of seconds")
        if "nbf" in claims and not _is_number(claims["nbf"]):
            raise TokenRejected("malformed", "claim 'nbf' must be a number of seconds")
        if claims.get("sid") is not None and not isinstance(claims["sid"], str):
            raise TokenRejected("malformed", "claim 'sid' must be a string")

        if claims["iss"] != ISSUER and self._enforced("wrong_issuer"):
            raise TokenRejected("wrong_issuer", f"issuer must be {ISSUER!r}")
        aud = claims["aud"]
        if not (aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud)) and self._enforced("wrong_audience"):
            raise TokenRejected("wrong_audience", f"audience must be {AUDIENCE!r}")

        now = self._clock()
        if claims["exp"] <= now and self._enforced("expired"):
            raise TokenRejected("expired", "token has expired")
        if claims["iat"] > now + IAT_FUTURE_LEEWAY_SECONDS and self._enforced("issued_in_future"):
            raise TokenRejected(
                "issued_in_future",
                f"token issued more than {IAT_FUTURE_LEEWAY_SECONDS} s in the future",
            )
        if "nbf" in claims and claims["nbf"] > now + IAT_FUTURE_LEEWAY_SECONDS:
            raise TokenRejected("issued_in_future", "token is not valid yet (nbf)")

        if claims["token_type"] != claims["type"] and self._enforced("wrong_type"):
            raise TokenRejected("wrong_type", "claims 'token_type' and 'type' disagree")
        if claims["token_type"] != expected_type and self._enforced("wrong_type"):
            raise TokenRejected(
                "wrong_type", f"expected a {expected_type} token, got {claims['token_type']!r}"
            )
