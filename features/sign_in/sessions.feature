@epic:Sign-in_and_sessions @feature:Sessions
Feature: Sessions that renew, end and expire
  A session must last as long as the customer works and not a moment longer: renewing it must
  leave no reusable key behind, signing out must really lock the door, and an expired token must
  stop working even on a chat that is already open.

  @clause:AUTH-2.7 @clause:AUTH-2.8
  @critical @story:Renewal
  Scenario: Renewing a session gives a new pair of tokens, and the old renewal token is spent
    Given Alice has signed up
    When Alice renews her session
    Then Alice holds a new pair of tokens for the same account
    And Alice's new session lists her conversations
    And renewing with Alice's previous renewal token is refused

  @clause:AUTH-2.9 @clause:AUTH-2.17 @clause:REST-3.1 @clause:WS-4.3 @clause:DET-7.12
  @critical @story:Sign_out
  Scenario: Signing out ends that session for the API, the chat and renewal, and only that session
    Given Alice has signed in on two devices, a laptop and a phone
    When Alice signs out on the laptop
    Then the laptop's access token no longer lists Alice's conversations
    And the laptop's access token no longer opens Alice's chat
    And the laptop's renewal token no longer renews Alice's session
    And Alice's session on the phone still works

  @clause:WS-4.22 @clause:DET-7.12
  @critical @story:Expiry @needs-jwt-secret
  Scenario: A chat whose token expires while connected is closed at its next message
    Given Alice has signed up
    And Alice has opened the chat with a token that expires in 2 seconds
    When that token's expiry time has passed
    And Alice sends a ping on that chat
    Then that chat is closed as a policy violation without an answer
