@epic:Recovery_and_resilience @feature:Platform_restart
Feature: Nothing is lost when the platform restarts
  Deployments restart the platform several times a week; customers must find their account, their
  conversations and their results exactly as they left them, and simply carry on chatting.

  @clause:AUTH-2.4 @clause:REST-3.4 @clause:RUN-5.10
  @critical @story:Restart @embedded-only
  Scenario: After a restart the user signs in again, finds her results and carries on chatting
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks "How can my team spend less on AI?"
    And the platform restarts
    Then Alice can sign in again with her password
    And Alice's conversation is still listed with her question and the stored answer
    And Alice reconnects and gets a complete answer to "Which model costs us the most?"
