"""Health and readiness, as an operator or a load balancer asks. Logic lives in ``acceptance.journeys.health``."""
from behave import then, when

from acceptance.journeys import health


@when("the operator checks the health of {service}")
def step_check_health(context, service):
    """GET the health endpoint of the named service (the platform, the platform API, the auth service)."""
    context.world.response = health.check_health(context.world, service)


@then("it reports healthy, names its service and version, and its database check is ok")
def step_reports_healthy(context):
    """200, status healthy, service and version named, checks.database ok."""
    health.reports_healthy(context.world.response)


@when("the operator asks whether the platform is ready")
def step_check_ready(context):
    """GET /health/ready."""
    context.world.response = health.check_ready(context.world)


@then("the platform says it is ready")
def step_reports_ready(context):
    """200 with status ready."""
    health.reports_ready(context.world.response)
