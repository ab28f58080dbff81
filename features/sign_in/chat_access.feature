@epic:Sign-in_and_sessions @feature:Chat_access
Feature: Opening the chat
  Customers reach the agents from browsers, scripts and integrations that present their session
  in different ways. Every genuine way must open the chat, a one-time ticket must work only once,
  and a bad credential must never be rescued by a good one hidden elsewhere in the request.

  @clause:REST-3.12 @clause:WS-4.2 @clause:WS-4.3
  @critical @story:One-time_tickets
  Scenario: A chat ticket opens the chat once only
    Given Alice has signed up
    And Alice has asked for a chat ticket
    When Alice opens the chat with that ticket
    Then Alice's chat is open and greets her as herself
    When someone opens the chat with the same ticket again
    Then the chat connection is refused before any message is exchanged

  @clause:WS-4.2 @clause:WS-4.7
  @critical @story:Credential_forms
  Scenario Outline: A valid session opens the chat when presented as <form>
    Given Alice has signed up
    When Alice opens the chat with <form>
    Then Alice's chat is open and greets her as herself

    Examples:
      | form                     |
      | the authorization header |
      | a sub-protocol token     |
      | a token in the address   |
      | a one-time ticket        |

  @clause:WS-4.2
  @normal @story:Credential_forms
  Scenario: The chat confirms the sub-protocol entry that carried the session
    Given Alice has signed up
    When Alice opens the chat with a sub-protocol token
    Then the platform selects the sub-protocol entry that carried Alice's token


  @clause:WS-4.3
  @critical @story:One-time_tickets
  Scenario: A ticket the platform never issued opens nothing
    When someone opens the chat with a ticket that was never issued
    Then the chat connection is refused before any message is exchanged

  @clause:WS-4.3 @clause:DET-7.11
  @critical @story:Credential_precedence
  Scenario: A bad authorization header is refused even when a valid token is in the address
    Given Alice has signed up
    When someone opens the chat with a bad authorization header and Alice's valid token in the address
    Then the chat connection is refused before any message is exchanged
