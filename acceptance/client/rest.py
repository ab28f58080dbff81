"""HTTP to the platform: one shared httpx client, every exchange recorded for the report."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from acceptance.verify import schemas
from acceptance.verify.errors import ContractViolation, InfrastructureFailure


class Transcript:
    """What one scenario sent and received, in order: HTTP exchanges and WebSocket frames."""

    def __init__(self):
        self._lock = threading.Lock()
        self.http: list[dict[str, Any]] = []
        self.ws: list[dict[str, Any]] = []
        self.violations: list[ContractViolation] = []  # every response or frame that broke the contract
        self.t0 = time.monotonic()

    def add_violation(self, violation: ContractViolation) -> None:
        with self._lock:
            self.violations.append(violation)

    def add_http(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.http.append(entry)

    def add_ws(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry.setdefault("t_ms", round((time.monotonic() - self.t0) * 1000, 1))
            self.ws.append(entry)

    def snapshot(self) -> tuple[list[dict], list[dict]]:
        with self._lock:
            return list(self.http), list(self.ws)


@dataclass
class Response:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    text: str
    elapsed_ms: float
    body: Any = field(default=None)

    def evidence(self) -> str:
        """One line a failure message can quote."""
        excerpt = self.text if len(self.text) <= 600 else self.text[:600] + "…"
        return f"{self.method} {self.url} answered {self.status}: {excerpt}"

    def expect_status(self, *statuses: int, category=ContractViolation, what: str = "") -> "Response":
        if self.status not in statuses:
            expected = " or ".join(str(s) for s in statuses)
            raise category(f"{what or 'the request'} should answer {expected}; {self.evidence()}")
        return self

    def expect_json_object(self, category=ContractViolation) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise category(f"expected a JSON object; {self.evidence()}")
        return self.body


class HttpClient:
    """One connection pool for the whole run; a failure to reach the target is Infrastructure."""

    def __init__(self, timeout: float = 10.0, contract_checks: bool = False):
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False)
        #: check every response against contract/openapi.yaml (a violation raises at once)
        self.contract_checks = contract_checks

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, *, transcript: Transcript | None = None, actor: str | None = None,
                token: str | None = None, json_body: Any = None, content: bytes | str | None = None,
                headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                timeout: float | None = None) -> Response:
        sent_headers = dict(headers or {})
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": sent_headers, "params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        elif content is not None:
            kwargs["content"] = content
            sent_headers.setdefault("Content-Type", "application/json")
        if timeout is not None:
            kwargs["timeout"] = timeout
        started = time.monotonic()
        try:
            raw = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise InfrastructureFailure(f"{method} {url} did not answer within "
                                        f"{timeout or self.client.timeout.read} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise InfrastructureFailure(f"{method} {url} could not be reached: {exc}") from exc
        elapsed = round((time.monotonic() - started) * 1000, 2)
        try:
            body = raw.json() if raw.content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        response = Response(method, str(raw.request.url), raw.status_code, dict(raw.headers), raw.text, elapsed, body)
        if transcript is not None:
            transcript.add_http({
                "actor": actor, "method": method, "url": response.url, "request_headers": sent_headers,
                "request_body": json_body if json_body is not None else (
                    content.decode("utf-8", "replace") if isinstance(content, bytes) else content),
                "status": response.status, "response_headers": {k: v for k, v in raw.headers.items()
                                                                if k.lower() in ("content-type", "retry-after",
                                                                                 "www-authenticate")},
                "response_body": body if body is not None else response.text[:2000], "elapsed_ms": elapsed})
        if self.contract_checks:
            violation = schemas.response_violation(method, response.url, response.status, body, response.text)
            if violation is not None:
                if transcript is not None:
                    transcript.add_violation(violation)
                raise violation
        return response


class PlatformApi:
    """The backend's REST resources (CONTRACT section 3) for one signed-in user."""

    def __init__(self, http: HttpClient, base_url: str, token_source, transcript: Transcript | None = None,
                 actor: str | None = None):
        self.http, self.base_url, self._token, self.transcript, self.actor = http, base_url, token_source, transcript, actor

    def call(self, method: str, path: str, *, token: str | None = ..., **kwargs) -> Response:
        return self.http.request(method, self.base_url + path, transcript=self.transcript, actor=self.actor,
                                 token=self._token() if token is ... else token, **kwargs)

    # health
    def health(self, path: str = "/health") -> Response:
        return self.call("GET", path, token=None)

    def ready(self) -> Response:
        return self.call("GET", "/health/ready", token=None)

    # threads
    def create_thread(self, title: str | None = None, metadata: dict | None = None) -> Response:
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = title
        if metadata is not None:
            body["metadata"] = metadata
        return self.call("POST", "/api/threads", json_body=body)

    def list_threads(self, limit: int | None = None, offset: int | None = None) -> Response:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        return self.call("GET", "/api/threads", params=params)

    def get_thread(self, thread_id: str) -> Response:
        return self.call("GET", f"/api/threads/{thread_id}")

    def rename_thread(self, thread_id: str, title: str) -> Response:
        return self.call("PUT", f"/api/threads/{thread_id}", json_body={"title": title})

    def delete_thread(self, thread_id: str) -> Response:
        return self.call("DELETE", f"/api/threads/{thread_id}")

    def messages(self, thread_id: str, limit: int | None = None, offset: int | None = None) -> Response:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        return self.call("GET", f"/api/threads/{thread_id}/messages", params=params)

    # usage and pricing
    def add_usage(self, records: list[dict[str, Any]]) -> Response:
        return self.call("POST", "/api/usage", json_body={"records": records})

    def usage_summary(self) -> Response:
        return self.call("GET", "/api/usage/summary")

    def delete_usage(self) -> Response:
        return self.call("DELETE", "/api/usage")

    def pricing(self) -> Response:
        return self.call("GET", "/api/pricing")

    def ws_ticket(self) -> Response:
        return self.call("POST", "/api/websocket/ticket")
