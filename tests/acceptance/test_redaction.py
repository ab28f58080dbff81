"""Credentials never reach a report: JWTs, Bearer headers, query tokens, secrets, password fields."""
from __future__ import annotations

import copy
import json
import string

from hypothesis import given, settings, strategies as st

from acceptance.client.redaction import (
    JWT_MASK,
    JWT_RE,
    MASK,
    REDACTOR,
    Redactor,
    is_sensitive_key,
    redact,
    redact_text,
)

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzEiLCJleHAiOjE3MDB9.Qm9ndXNTaWduYXR1cmVfLQ"
NONE_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyXzEifQ."


def test_jwt_in_plain_text():
    assert redact_text(f"token was {JWT} today") == f"token was {JWT_MASK} today"


def test_unsigned_jwt_is_masked_too():
    assert redact_text(f"alg none: {NONE_JWT}") == f"alg none: {JWT_MASK}"


def test_jwt_inside_nested_json_text():
    inner = json.dumps({"user": {"session": JWT}, "note": "ok"})
    doc = {"response": {"body": json.dumps({"wrapped": inner})}, "list": [f"x{JWT}y"]}
    out = redact(doc)
    dumped = json.dumps(out)
    assert "eyJ" not in dumped
    assert json.loads(json.loads(out["response"]["body"])["wrapped"])["user"]["session"] == JWT_MASK
    assert out["list"] == [f"x{JWT_MASK}"]


def test_bearer_header_in_text_and_dict():
    assert redact_text("Authorization: Bearer abc.def-123") == "Authorization: Bearer <redacted>"
    assert redact_text("curl -H 'authorization: bearer opaque-token'") == "curl -H 'authorization: bearer <redacted>'"
    out = redact({"headers": {"Authorization": f"Bearer {JWT}", "Accept": "application/json"}})
    assert out == {"headers": {"Authorization": f"Bearer {MASK}", "Accept": "application/json"}}


def test_query_token_is_masked_and_ticket_kept():
    url = f"wss://host/ws?token={JWT}&ticket=tkt_123&x=1"
    assert redact_text(url) == "wss://host/ws?token=<redacted>&ticket=tkt_123&x=1"
    assert redact_text("GET /ws?ticket=tkt_9&token=opaque") == "GET /ws?ticket=tkt_9&token=<redacted>"
    assert redact_text("/cb?access_token=abc&refresh_token=def") == "/cb?access_token=<redacted>&refresh_token=<redacted>"


def test_subprotocol_jwt_entry():
    header = "Sec-WebSocket-Protocol: jwt.ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUoxIn0, netra-v1"
    assert redact_text(header) == "Sec-WebSocket-Protocol: jwt.<redacted>, netra-v1"
    assert redact({"Sec-WebSocket-Protocol": ["jwt.ZXlKaGJHY2lPaUpJVXpJMU5pSjk", "chat"]}) == {
        "Sec-WebSocket-Protocol": ["jwt.<redacted>", "chat"]}
    assert redact_text("calls jwt.decode(token)") == "calls jwt.decode(token)"


def test_registered_secret_is_masked_everywhere():
    r = Redactor()
    secret = "s3cr3t-signing-key-of-32-bytes!!"
    r.add_secret(secret)
    doc = {"log": f"loaded key {secret}", "nested": [{"env": {"JWT_SECRET_KEY": secret, "OTHER": secret}}],
           "key": f"prefix{secret}suffix"}
    out = r.redact(doc)
    assert secret not in json.dumps(out)
    assert out["log"] == f"loaded key {MASK}"
    assert out["key"] == f"prefix{MASK}suffix"
    assert out["nested"][0]["env"] == {"JWT_SECRET_KEY": MASK, "OTHER": MASK}


def test_short_and_empty_secrets_are_ignored():
    r = Redactor()
    for value in ("", None, "abc", "   ", b""):
        r.add_secret(value)
    assert r.secrets_count == 0
    assert r.redact_text("abc def") == "abc def"
    r.add_secret(b"bypass-key-1")
    assert r.redact_text("key=bypass-key-1") == f"key={MASK}"


def test_longest_secret_first():
    r = Redactor(["abcd", "abcdefgh"])
    assert r.redact_text("abcdefgh") == MASK


def test_sensitive_keys():
    doc = {
        "password": "hunter22",
        "Password": "x1234",
        "new_password": "y1234",
        "access_token": JWT,
        "refresh_token": "opaque-refresh",
        "token": "t",
        "X-E2E-Bypass-Key": "bypass",
        "x_e2e_bypass_key": "bypass",
        "client_secret": {"nested": 1},
        "SECRET": 5,
        "ticket_id": "tkt_1",
        "token_type": "Bearer",
        "email": "ada@example.com",
        "missing_password": None,
        "empty_token": "",
    }
    out = redact(doc)
    assert out == {
        "password": MASK,
        "Password": MASK,
        "new_password": MASK,
        "access_token": JWT_MASK,
        "refresh_token": MASK,
        "token": MASK,
        "X-E2E-Bypass-Key": MASK,
        "x_e2e_bypass_key": MASK,
        "client_secret": MASK,
        "SECRET": MASK,
        "ticket_id": "tkt_1",
        "token_type": "Bearer",
        "email": "ada@example.com",
        "missing_password": None,
        "empty_token": "",
    }
    assert is_sensitive_key("Authorization") and not is_sensitive_key("ticket_id") and not is_sensitive_key(3)


def test_sensitive_keys_inside_json_text():
    text = json.dumps({"email": "a@b.c", "password": "hunter22", "nested": {"refresh_token": "r-1"}})
    out = redact_text(text)
    assert "hunter22" not in out and "r-1" not in out and "a@b.c" in out
    assert json.loads(out)["password"] == MASK
    python_repr = str({"password": "hunter22", "user": "ada"})
    assert "hunter22" not in redact_text(python_repr)
    embedded = json.dumps({"body": json.dumps({"password": "hunter22"})})
    assert "hunter22" not in redact_text(embedded)


def test_header_lines():
    text = "POST /auth/e2e/test-auth\nX-E2E-Bypass-Key: very-secret\nContent-Type: application/json"
    assert redact_text(text) == "POST /auth/e2e/test-auth\nX-E2E-Bypass-Key: <redacted>\nContent-Type: application/json"


def test_input_is_not_modified_and_types_are_kept():
    doc = {"a": [JWT, ("b", JWT)], "password": "p4ss", "n": 3, "f": 1.5, "ok": True, "none": None}
    before = copy.deepcopy(doc)
    out = redact(doc)
    assert doc == before
    assert isinstance(out["a"][1], tuple)
    assert out["n"] == 3 and out["f"] == 1.5 and out["ok"] is True and out["none"] is None
    assert redact(f"b {JWT}".encode()) == f"b {JWT_MASK}".encode()


def test_redaction_is_idempotent():
    text = f"Bearer {JWT} ?token=abc jwt.ZXlKaGJHY2lPaUpJVXpJ {{\"password\": \"x1234\"}}"
    once = redact_text(text)
    assert redact_text(once) == once


def test_default_redactor_is_shared():
    assert redact_text(JWT) == REDACTOR.redact_text(JWT) == JWT_MASK


# --------------------------------------------------------------------------- property

B64 = string.ascii_letters + string.digits + "-_"
segment = st.text(alphabet=B64, min_size=1, max_size=30)
jwts = st.builds(lambda h, p, s: f"eyJ{h}.{p}.{s}", segment, segment, st.text(alphabet=B64, max_size=30))
filler = (
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    | st.text(alphabet=B64 + ".=&?:\" ", max_size=12)
    # fragments that glue onto a token and make overlapping candidates
    | st.lists(st.sampled_from(["eyJ", "eyJa.", "eyJa.b.", ".", "x", "Bearer ", "?token="]), max_size=5).map("".join)
)


@st.composite
def documents(draw):
    tokens = draw(st.lists(jwts, min_size=1, max_size=3))
    texts = st.builds(lambda a, t, b: a + t + b, filler, st.sampled_from(tokens), filler)
    leaves = st.none() | st.booleans() | st.integers() | filler | texts
    keys = filler | texts | st.sampled_from(["password", "token", "note", "Authorization", "data"])
    doc = draw(st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        | st.builds(json.dumps, st.dictionaries(keys, children, max_size=3)),
        max_leaves=25,
    ))
    return tokens, doc


def strings_in(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from strings_in(value)


@settings(max_examples=300, deadline=None)
@given(documents())
def test_no_jwt_survives_redaction_of_random_nesting(case):
    tokens, doc = case
    out = redact(doc)
    for text in strings_in(out):
        assert JWT_RE.search(text) is None, text
        for token in tokens:
            assert token not in text
            header, payload, _sig = token.split(".")
            assert f"{header}.{payload}" not in text


def test_a_result_whose_message_cuts_a_token_short_stays_valid_json(tmp_path):
    """The results writer redacts a result's values, not its serialised text: a message that cuts a
    token short (``"refresh_token":"eyJ…``) once made the mask swallow the JSON after it."""
    import json

    from allure_commons.model2 import Status, StatusDetails, TestResult

    from acceptance.client.redaction import Redactor
    from acceptance.reporting.listener import RedactingFileLogger
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    message = f'answered 200: {{"access_token":"{token}","refresh_token":"eyJ…'
    result = TestResult(uuid="u1", name="n", status=Status.FAILED,
                        statusDetails=StatusDetails(message=message, trace='trace with "quotes"'))
    RedactingFileLogger(tmp_path, Redactor().redact).report_result(result)
    written = json.loads(next(tmp_path.glob("*-result.json")).read_text(encoding="utf-8"))
    assert written["statusDetails"]["trace"] == 'trace with "quotes"'
    assert token not in json.dumps(written) and written["statusDetails"]["message"].startswith("answered 200")


def test_a_token_cut_short_in_an_excerpt_is_masked_without_breaking_the_enclosing_json():
    """A failure message quotes a response body cut short ("eyJ…") inside an Allure result file: the
    mask stops at the end of the message's string, so the result file stays valid JSON with its trace."""
    message = 'answered 200: {"access_token":"eyJa.b.c","refresh_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi\u2026'
    text = json.dumps({"statusDetails": {"message": message, "trace": 'File "steps.py", line 1'}, "name": "n"})
    out = json.loads(Redactor().redact_text(text))
    assert out["statusDetails"]["trace"] == 'File "steps.py", line 1' and out["name"] == "n"
    assert out["statusDetails"]["message"].endswith('"refresh_token":"<redacted>')
    assert "eyJhbGciOi" not in json.dumps(out)


def test_every_sensitive_word_passes_the_fast_path():
    """Text without a trigger word skips the patterns: every key, header, query and credential form the
    patterns mask contains one."""
    from acceptance.client.redaction import _SENSITIVE_KEYS, _TRIGGER_RE
    forms = [*_SENSITIVE_KEYS, "X-E2E-Bypass-Key", "Set-Cookie", "X-API-Key", "client_secret_value",
             "my-password", "Bearer abc", "jwt.abcdefgh", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "access-token", "id_token"]
    assert [f for f in forms if _TRIGGER_RE.search(f) is None] == []
