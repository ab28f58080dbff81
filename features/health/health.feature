@epic:Operations @feature:Health
Feature: Health and readiness
  Operators and load balancers decide from these answers whether to send customers to the
  platform, so the answers must be true: healthy with a working database, and ready once started.

  @clause:SVC-1.4
  @critical @story:Readiness
  Scenario: The platform says it is ready once started
    When the operator asks whether the platform is ready
    Then the platform says it is ready

  @clause:SVC-1.1 @clause:SVC-1.2
  @critical @story:Health
  Scenario Outline: The health check of <service> reports healthy with its version and a working database
    When the operator checks the health of <service>
    Then it reports healthy, names its service and version, and its database check is ok

    Examples:
      | service          |
      | the platform     |
      | the platform API |
      | the auth service |
