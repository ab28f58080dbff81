@epic:Sign-in_and_sessions @feature:Chat_access
Feature: Only genuine sessions can open the chat
  The chat carries a customer's spending data, so the platform must refuse any connection
  whose credentials it did not issue itself.

  @critical @story:Forged_tokens @needs-jwt-secret
  Scenario: A chat connection with a token signed by someone else is refused
    Given Alice has signed up
    When someone opens the chat as Alice with a token carrying a wrong signature
    Then the chat connection is refused before any message is exchanged
