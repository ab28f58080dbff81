"""Health and readiness as an operator or a load balancer sees them (CONTRACT section 1)."""
from __future__ import annotations

from acceptance.client.rest import Response
from acceptance.journeys.actors import World
from acceptance.verify.errors import ContractViolation, InfrastructureFailure
from acceptance.verify.schemas import validate_body

# what the operator names -> (which origin, path)
HEALTH_ENDPOINTS = {
    "the platform": ("base", "/health"),
    "the platform API": ("base", "/api/health"),
    "the auth service": ("auth", "/auth/health"),
}


def _get(world: World, origin: str, path: str) -> Response:
    base = world.config.auth_url if origin == "auth" else world.config.base_url
    return world.http.request("GET", base.rstrip("/") + path, transcript=world.transcript, actor="operator")


def check_health(world: World, service: str) -> Response:
    if service not in HEALTH_ENDPOINTS:
        raise ValueError(f"unknown service {service!r}; known: {', '.join(HEALTH_ENDPOINTS)}")
    return _get(world, *HEALTH_ENDPOINTS[service])


def reports_healthy(response: Response) -> None:
    """200 ``{status:"healthy", service, version, environment, uptime_seconds, checks:{database:"ok"}}``."""
    if response.status == 503:
        raise InfrastructureFailure(f"the target reports itself unhealthy; {response.evidence()}")
    response.expect_status(200, what="a health check")
    body = response.expect_json_object()
    validate_body("health", body)
    if body["status"] != "healthy":
        raise ContractViolation(f"a health check answering 200 must say healthy; {response.evidence()}")
    if not body["service"].strip() or not body["version"].strip():
        raise ContractViolation(f"a health check must name its service and version; {response.evidence()}")


def check_ready(world: World) -> Response:
    return _get(world, "base", "/health/ready")


def reports_ready(response: Response) -> None:
    response.expect_status(200, what="the readiness check of a started platform")
    validate_body("ready", response.expect_json_object())
