"""contract/openapi.yaml and contract/asyncapi.yaml: valid against their official specifications, and
in agreement with CONTRACT.md (every path, frame type and error code named in one is in the others)."""
from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from jsonschema import Draft7Validator
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.readers import read_from_filename

from acceptance.client import netra2025
from acceptance.client.events import normalize
from acceptance.verify import contract, schemas

TEXT = contract.CONTRACT_MD.read_text(encoding="utf-8")
ASYNCAPI_SPEC = contract.ROOT / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0.json"


def openapi() -> dict:
    return schemas.documents()["openapi.yaml"]


def asyncapi() -> dict:
    return schemas.documents()["asyncapi.yaml"]


@pytest.fixture(scope="module")
def asyncapi_validator() -> Draft7Validator:
    assert ASYNCAPI_SPEC.exists(), ("the AsyncAPI 3.0.0 JSON Schema comes from npm @asyncapi/specs "
                                    "(package.json): run bin/setup")
    spec = json.loads(ASYNCAPI_SPEC.read_text(encoding="utf-8"))
    assert spec["$schema"] == "http://json-schema.org/draft-07/schema"
    return Draft7Validator(spec)


# --------------------------------------------------------------------------- official specifications


def test_openapi_is_valid_openapi_3_1():
    spec, _ = read_from_filename(str(contract.OPENAPI))
    assert spec["openapi"].startswith("3.1")
    validate_openapi(spec)


def test_openapi_validator_catches_a_broken_document():
    spec, _ = read_from_filename(str(contract.OPENAPI))
    broken = copy.deepcopy(spec)
    broken["paths"]["/api/threads"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Nope"}
    with pytest.raises(Exception):
        validate_openapi(broken)


def test_asyncapi_is_valid_asyncapi_3_0(asyncapi_validator):
    doc = asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in asyncapi_validator.iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("breakage", ["operation action", "server protocol", "schema keyword"])
def test_asyncapi_validator_catches_a_broken_document(asyncapi_validator, breakage):
    doc = copy.deepcopy(asyncapi())
    if breakage == "operation action":
        doc["operations"]["receivePing"]["action"] = "listen"
    elif breakage == "server protocol":
        doc["servers"]["reference"]["protocol"] = 7
    else:
        doc["components"]["schemas"]["Id"]["minLength"] = "one"
    assert list(asyncapi_validator.iter_errors(doc))


def test_every_schema_of_both_documents_compiles():
    assert schemas.compile_all() >= 30
    for name in schemas.SCHEMA_NAMES:
        assert isinstance(schemas.schema(name), dict)


def test_documents_carry_the_contract_version():
    assert openapi()["info"]["version"] == contract.version() == asyncapi()["info"]["version"]


def test_documents_have_examples_that_conform():
    doc = openapi()
    checked = 0
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete"):
                continue
            for status, response in op.get("responses", {}).items():
                media = (response.get("content") or {}).get("application/json") or {}
                examples = [media["example"]] if "example" in media else []
                for ex in (media.get("examples") or {}).values():
                    if "$ref" in ex:
                        ex = doc["components"]["examples"][ex["$ref"].rsplit("/", 1)[-1]]
                    examples.append(ex["value"])
                for example in examples:
                    path = re.sub(r"\{[^}]+\}", "x1", template)
                    schemas.validate_response(method.upper(), "http://h" + path, int(status), example)
                    checked += 1
    for message in asyncapi()["components"]["messages"].values():
        for example in message.get("examples", []):
            payload = example["payload"]
            if message["name"] in schemas.FRAME_SCHEMAS:
                schemas.validate_frame(payload)
            checked += 1
    assert checked >= 12


# --------------------------------------------------------------------------- agreement


def contract_paths() -> set[tuple[str, str]]:
    found = set(re.findall(r"`(GET|POST|PUT|DELETE) (/[^`?\s]*)", TEXT))
    return {(m, re.sub(r"\{[^}]+\}", "{}", p)) for m, p in found}


def openapi_paths() -> set[tuple[str, str]]:
    return {(method.upper(), re.sub(r"\{[^}]+\}", "{}", template))
            for template, item in openapi()["paths"].items() for method in item if method in ("get", "post", "put",
                                                                                            "delete")}


def test_every_rest_path_is_in_both():
    assert contract_paths() == openapi_paths()


def test_websocket_paths_are_in_both():
    named = set(re.findall(r"`(/ws|/api/v1/websocket)`", TEXT))
    assert named == {"/ws", "/api/v1/websocket"}
    assert {c["address"] for c in asyncapi()["channels"].values()} == named


COMPAT_ENVELOPES = {"system_message"}  # a Compat wrapper of other frames, documented as CompatSystemMessage


def contract_frame_types() -> set[str]:
    types = set(re.findall(r'\{type:"(\w+)"', TEXT))
    types |= set(re.findall(r"\| \*\*\[WS-4\.\d+\]\*\* \| `(\w+)` \|", TEXT))            # client frames
    types |= set(re.findall(r"\| `(\w+)` `data:", TEXT))                                 # their answers
    types |= set(re.findall(r"`(\w+)` `data:", TEXT))
    types |= set(re.findall(r"^- \*\*\[RUN-5\.\d+\]\*\* `(\w+)` data", TEXT, re.MULTILINE))
    types |= {t for t in re.findall(r"`(agent_\w+|tool_\w+)`", TEXT) if not t.endswith("_name")}
    types |= set(re.findall(r"first frame is `(\w+)`", TEXT))
    types |= set(re.findall(r"sends `(\w+)` every", TEXT))
    return types - COMPAT_ENVELOPES


def asyncapi_frame_types() -> set[str]:
    return {m["name"] for m in asyncapi()["components"]["messages"].values()}


def test_every_frame_type_is_in_both():
    assert contract_frame_types() == asyncapi_frame_types()
    dialect_only = set().union(*schemas.DIALECT_FRAME_TYPES.values())
    assert set(schemas.FRAME_TYPES) | set(schemas.CLIENT_FRAME_TYPES) | dialect_only == asyncapi_frame_types()
    assert schemas.DIALECT_FRAME_TYPES == {
        "netra-2025": set(netra2025.HANDSHAKE_TYPES) | {netra2025.HANDSHAKE_ACK}}
    assert set(schemas.CLIENT_FRAME_TYPES) == {"ping", "start_agent", "user_message", "stop_agent", "resume_run",
                                               "get_thread"}


def test_every_error_code_is_in_both():
    ws_errors = TEXT[TEXT.index("**[WS-4.17]**"):TEXT.index("**[WS-4.18]**")]
    named = set(re.findall(r"`([A-Z][A-Z_]+)`", ws_errors))
    assert named == set(schemas.ERROR_CODES)
    # every frame-level code named anywhere in sections 4 and 7 is one of them, or the Compat AUTH_FAILED
    ws_and_details = TEXT[TEXT.index("## 4."):TEXT.index("## 5.")] + TEXT[TEXT.index("## 7."):TEXT.index("## 8.")]
    codes = set(re.findall(r"\b([A-Z][A-Z0-9]+_[A-Z_]+)\b", ws_and_details))
    assert codes - set(schemas.ERROR_CODES) == {"AUTH_FAILED"}
    assert "AUTH_FAILED" in yaml.safe_dump(asyncapi())


def test_every_agent_is_in_both():
    named = re.findall(r"`(\w+)`", TEXT[TEXT.index("**[WS-4.16]**"):TEXT.index("**[WS-4.17]**")])
    assert set(named) == set(schemas.AGENT_NAMES)


def _clause_refs(node) -> set[str]:
    text = json.dumps(node)
    return set(contract.ANY_CLAUSE_REF.findall(text))


def test_every_clause_the_documents_cite_exists():
    defined = set(contract.clause_ids())
    for name in ("openapi.yaml", "asyncapi.yaml"):
        assert _clause_refs(schemas.documents()[name]) - defined == set(), name


def test_every_operation_and_message_names_its_clause():
    for template, item in openapi()["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete"):
                assert op.get("x-clause") in contract.clause_ids(), (method, template)
    for name, message in asyncapi()["components"]["messages"].items():
        assert message.get("x-clause") in contract.clause_ids(), name


def test_credential_forms_of_the_handshake_are_documented():
    schemes = asyncapi()["components"]["securitySchemes"]
    assert {(s["type"], s.get("in"), s.get("name")) for s in schemes.values()} == {
        ("http", None, None), ("httpApiKey", "header", "Sec-WebSocket-Protocol"), ("httpApiKey", "query", "token"),
        ("httpApiKey", "query", "ticket")}
    binding = asyncapi()["channels"]["chat"]["bindings"]["ws"]
    assert set(binding["headers"]["properties"]) == {"Authorization", "Sec-WebSocket-Protocol"}
    assert set(binding["query"]["properties"]) == {"token", "ticket", "env"}  # env: netra-2025 (N25-3)
    n25 = schemes["netra2025Subprotocol"]["description"]
    for form in ("jwt.<env>.<JWT>", "jwt-auth.<env>.<JWT>", "bearer.<env>.<JWT>", "staging-auth.<JWT>",
                 "jwt.<JWT>", "jwt-auth.<JWT>", "bearer.<JWT>"):
        assert f"`{form}`" in n25 and f"`{form}`" in TEXT[TEXT.index("**[N25-3]**"):TEXT.index("**[N25-4]**")]


def _compat_n25_schemas() -> dict[str, dict]:
    return {name: s for name, s in asyncapi()["components"]["schemas"].items() if name.startswith("CompatN25")}


def test_netra_2025_compat_forms_are_documented_with_their_clauses():
    forms = _compat_n25_schemas()
    assert {s["x-clause"] for s in forms.values()} >= {"N25-4", "N25-7", "N25-8", "N25-9", "N25-10", "N25-13"}
    assert all(s.get("x-compat") is True for s in forms.values())
    for name in ("handshake_response", "handshake_acknowledged", "handshake_complete"):
        message = asyncapi()["components"]["messages"][name]
        assert message["x-dialect"] == "netra-2025" and message["x-clause"] == "N25-4"


def test_netra_2025_compat_examples_conform_and_read_back_into_the_canonical_frames():
    """Each Compat form's example passes its own schema; a flat event's example, read back as the suite's
    client does, passes the canonical frame schema and is one Netra's client can read (N25-8..N25-13)."""
    doc = asyncapi()
    checked = 0
    for name, form in _compat_n25_schemas().items():
        place = f"{schemas.ASYNCAPI_NAME}#/components/schemas/{name}"
        for example in form.get("examples", []):
            assert schemas._violations(place, example) == [], (name, example)
            if example["type"] in netra2025.FLAT_TYPES and example["type"] != "agent_thinking":
                event = netra2025.to_canonical(normalize(example))
                assert netra2025.wire_problem(event) is None, name
            checked += 1
        broken = {"type": "tool_completed", "message_id": "msg_1", "timestamp": "2026-01-01T00:00:00Z",
                  "data": {"results": {}}}
        assert schemas._violations(f"{schemas.ASYNCAPI_NAME}#/components/schemas/CompatN25FlatEvent", broken)
    for name in ("handshake_response", "handshake_complete"):
        for example in doc["components"]["messages"][name]["examples"]:
            assert netra2025.offer_problem(normalize(example["payload"])) is None or name != "handshake_response"
            assert schemas._violations(f"{schemas.ASYNCAPI_NAME}{doc['components']['messages'][name]['payload']['$ref']}",
                                       example["payload"]) == []
            checked += 1
    assert checked >= 7
