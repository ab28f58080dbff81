"""Before the first scenario: is the target there and healthy? Bounded to a few seconds.

A target that refuses connections, accepts TCP but never answers, or answers unhealthy stops the
run at once with one message naming the URL and the cause.
"""
from __future__ import annotations

from dataclasses import dataclass

from acceptance.client.config import TargetConfig
from acceptance.client.rest import HttpClient
from acceptance.verify.errors import InfrastructureFailure


@dataclass(frozen=True)
class PreflightResult:
    url: str
    healthy: bool
    version: str | None
    environment: str | None
    message: str


def check(config: TargetConfig, http: HttpClient | None = None) -> PreflightResult:
    """Raises :class:`InfrastructureFailure` with one clear message unless the target is healthy."""
    url = f"{config.base_url}/health"
    own = http is None
    http = http or HttpClient(timeout=config.preflight_timeout)
    try:
        response = http.request("GET", url, timeout=config.preflight_timeout)
    except InfrastructureFailure as exc:
        raise InfrastructureFailure(f"preflight: the target {config.base_url} is not usable: {exc.detail}. "
                                    f"Is the platform running, and is base_url right?") from None
    finally:
        if own:
            http.close()
    body = response.body if isinstance(response.body, dict) else {}
    if response.status != 200 or body.get("status") != "healthy":
        checks = body.get("checks")
        raise InfrastructureFailure(
            f"preflight: the target {config.base_url} is not healthy: GET /health answered {response.status}"
            + (f" with status {body.get('status')!r}" if body else f" ({response.text[:200]!r})")
            + (f" and checks {checks}" if checks else "") + ". Fix the deployment before running the suite.")
    return PreflightResult(url, True, body.get("version"), body.get("environment"),
                           f"{config.base_url} is healthy (version {body.get('version')})")
