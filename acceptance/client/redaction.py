"""Masking of credentials in everything the suite writes to a report or a log.

:class:`Redactor` masks

* JWTs anywhere in a text (three base64url segments, the first starting with ``eyJ``; an empty
  signature, as in ``alg:none`` tokens, counts too) → ``<redacted:jwt>``;
* ``Bearer <x>`` → ``Bearer <redacted>``;
* query parameters ``token=`` (also ``access_token=``, ``refresh_token=``, ``id_token=``) and
  ``password=`` → ``token=<redacted>``; ticket ids are kept (single-use, short-lived);
* ``Sec-WebSocket-Protocol`` entries ``jwt.<base64url>`` → ``jwt.<redacted>``;
* values of sensitive keys, in dicts and in JSON-like text: password, access_token, refresh_token,
  token, authorization, x-e2e-bypass-key, secret, cookie, and any key containing "secret" or
  "password" → ``<redacted>`` (``<redacted:jwt>`` when the value is a JWT);
* every value registered with :meth:`Redactor.add_secret` (a JWT secret, a bypass key).

:meth:`Redactor.redact` deep-copies dicts, lists and tuples; the input is never modified.
"""
from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["Redactor", "REDACTOR", "MASK", "JWT_MASK", "JWT_RE", "redact", "redact_text", "is_sensitive_key"]

MASK = "<redacted>"
JWT_MASK = "<redacted:jwt>"
MIN_SECRET_LENGTH = 4

_B64 = r"[A-Za-z0-9_-]"
JWT_RE = re.compile(rf"eyJ{_B64}*\.{_B64}+\.{_B64}*")
_JWT_FULL = re.compile(rf"^\s*{JWT_RE.pattern}\s*$")
_BEARER_RE = re.compile(r"(\bBearer\s+)(?!<redacted)[^\s\"',;&]+", re.IGNORECASE)
_QUERY_RE = re.compile(
    r"((?:^|(?<=[?&;\s]))(?:access_token|refresh_token|id_token|token|password)=)(?!<redacted)[^&#\s\"']*",
    re.IGNORECASE)
_SUBPROTOCOL_RE = re.compile(r"(\bjwt\.)(?!<redacted)[A-Za-z0-9_\-=]{8,}")

# every pattern above and below needs one of these words: text without any of them skips the patterns
# (most strings of a transcript: frame types, ids, amounts), which makes redacting a scenario's evidence
# several times cheaper; the run's own secrets are still looked for in every text
_TRIGGER_RE = re.compile(r"bearer|token|password|secret|authori|key|cookie|jwt\.|eyJ", re.IGNORECASE)

_SENSITIVE_KEYS = frozenset({
    "password", "access_token", "refresh_token", "id_token", "token", "authorization",
    "x_e2e_bypass_key", "secret", "cookie", "set_cookie", "api_key", "x_api_key",
})
_SENSITIVE_KEY_ALT = (
    r"[^\"'\n]*(?:secret|password)[^\"'\n]*"
    r"|access[_-]token|refresh[_-]token|id[_-]token|token|authorization|x[_-]e2e[_-]bypass[_-]key"
    r"|cookie|set[_-]cookie|api[_-]key|x[_-]api[_-]key"
)
# "key": "value" / 'key': 'value' in JSON or Python-literal text
_KEYED_VALUE_RE = re.compile(
    rf"""(?P<head>(?P<q>["'])(?:{_SENSITIVE_KEY_ALT})(?P=q)\s*:\s*)(?P<vq>["'])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)""",
    re.IGNORECASE,
)
# the same inside a JSON text embedded in a JSON string: \"key\": \"value\". The value never crosses a bare
# quote (the end of the enclosing string): a value cut short there (an excerpt ending in "…") is masked
# up to it, and the enclosing JSON stays intact
_ESCAPED_KEYED_VALUE_RE = re.compile(
    r'(?P<head>\\"(?:' + _SENSITIVE_KEY_ALT + r')\\"\s*:\s*)(?P<vq>\\")(?P<value>(?:(?!\\")[^"])*)'
    r'(?P<end>\\"|(?="))',
    re.IGNORECASE,
)
# header lines "Authorization: ..." / "X-E2E-Bypass-Key: ..."
_HEADER_LINE_RE = re.compile(
    r"(?im)^(?P<head>[ \t]*(?:authorization|x-e2e-bypass-key|cookie|set-cookie|x-api-key)[ \t]*:[ \t]*)(?P<value>\S.*?)[ \t]*$"
)


def is_sensitive_key(key: Any) -> bool:
    """Whether the value of this dict key or header is always masked."""
    if not isinstance(key, str):
        return False
    norm = key.strip().lower().replace("-", "_")
    return norm in _SENSITIVE_KEYS or "secret" in norm or "password" in norm


def _mask_jwts(text: str) -> str:
    """Mask every span matched by :data:`JWT_RE` from any ``eyJ`` (overlapping starts merged)."""
    if "eyJ" not in text:
        return text
    spans: list[list[int]] = []
    pos = text.find("eyJ")
    while pos != -1:
        m = JWT_RE.match(text, pos)
        if m:
            if spans and m.start() <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], m.end())
            else:
                spans.append([m.start(), m.end()])
        pos = text.find("eyJ", pos + 1)
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(JWT_MASK)
        last = end
    out.append(text[last:])
    return "".join(out)


class Redactor:
    """Masks credentials in texts and (copies of) JSON-like structures."""

    def __init__(self, secrets: list[str] | tuple[str, ...] = ()):
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        for s in secrets:
            self.add_secret(s)

    @property
    def secrets_count(self) -> int:
        return len(self._secrets)

    def add_secret(self, value: Any) -> None:
        """Mask this value wherever it appears. Empty values and values under 4 characters are ignored."""
        if value is None:
            return
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        value = str(value)
        if len(value.strip()) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value not in self._secrets:
                # longest first, so that a secret containing another is masked whole
                self._secrets = tuple(sorted(self._secrets + (value,), key=len, reverse=True))

    def redact_text(self, text: str) -> str:
        if not isinstance(text, str) or not text:
            return text
        out = text if _TRIGGER_RE.search(text) is None else self._mask_patterns(text)
        for secret in self._secrets:
            if secret in out:
                out = out.replace(secret, MASK)
        return out

    def _mask_patterns(self, text: str) -> str:
        out = _BEARER_RE.sub(lambda m: m.group(1) + MASK, text)
        out = _QUERY_RE.sub(lambda m: m.group(1) + MASK, out)
        out = _SUBPROTOCOL_RE.sub(lambda m: m.group(1) + MASK, out)
        out = _KEYED_VALUE_RE.sub(self._mask_keyed, out)
        out = _ESCAPED_KEYED_VALUE_RE.sub(self._mask_escaped_keyed, out)
        out = _HEADER_LINE_RE.sub(lambda m: m.group("head") + (
            m.group("value") if "<redacted" in m.group("value") else MASK), out)
        return _mask_jwts(out)

    @staticmethod
    def _mask_keyed(m: re.Match) -> str:
        value = m.group("value")
        if value == "" or "<redacted" in value:
            return m.group(0)
        mask = JWT_MASK if _JWT_FULL.match(value) else MASK
        return f"{m.group('head')}{m.group('vq')}{mask}{m.group('vq')}"

    @classmethod
    def _mask_escaped_keyed(cls, m: re.Match) -> str:
        masked = cls._mask_keyed(m)
        if m.group("end") or masked == m.group(0):
            return masked
        return masked[:-len(m.group("vq"))]  # cut short at the end of its string: no closing quote to keep

    def _mask_value(self, value: Any) -> Any:
        if value is None or value == "":
            return value
        if isinstance(value, str):
            if value.startswith("<redacted"):
                return value
            if _JWT_FULL.match(value):
                return JWT_MASK
            bearer = re.match(r"^(\s*Bearer\s+)\S", value, re.IGNORECASE)
            if bearer:
                return bearer.group(1) + MASK
        return MASK

    def redact(self, obj: Any) -> Any:
        """A copy of ``obj`` with credentials masked (dicts, lists, tuples, strings, bytes; others as they are)."""
        if isinstance(obj, str):
            return self.redact_text(obj)
        if isinstance(obj, dict):
            out = {}
            for key, value in obj.items():
                new_key = self.redact_text(key) if isinstance(key, str) else key
                out[new_key] = self._mask_value(value) if is_sensitive_key(key) else self.redact(value)
            return out
        if isinstance(obj, list):
            return [self.redact(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact(v) for v in obj)
        if isinstance(obj, (bytes, bytearray)):
            text = bytes(obj).decode("utf-8", "replace")
            redacted = self.redact_text(text)
            return obj if redacted == text else redacted.encode("utf-8")
        return obj

    __call__ = redact


REDACTOR = Redactor()


def redact(obj: Any) -> Any:
    """:meth:`Redactor.redact` of the default :data:`REDACTOR`."""
    return REDACTOR.redact(obj)


def redact_text(text: str) -> str:
    """:meth:`Redactor.redact_text` of the default :data:`REDACTOR`."""
    return REDACTOR.redact_text(text)
