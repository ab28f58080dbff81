@epic:Recovery_and_resilience @feature:Malformed_input
Feature: Bad messages get a clear answer and the conversation carries on
  Client apps have bugs and networks mangle data; a bad message must be answered with an error
  the app can act on, and must never cost the user the conversation they are having.

  @clause:WS-4.7 @clause:WS-4.21
  @normal @story:Oversize_messages
  Scenario: A message over the announced size limit closes the connection, and the user reconnects
    Given Alice has signed up and opened the chat
    When Alice's app sends a message larger than the size limit the platform announced
    Then the platform closes Alice's connection with code 1009
    And Alice reconnects and gets a complete answer to "How can my team spend less on AI?"

  @clause:WS-4.11 @clause:WS-4.17 @clause:DET-7.13
  @normal @story:Malformed_messages
  Scenario Outline: <message> gets the error <code> and the conversation carries on
    Given Alice has signed up and opened the chat
    When Alice's app sends <message>
    Then the platform answers Alice with the error <code>
    And Alice's connection still answers a keep-alive check
    And Alice can still ask "How can my team spend less on AI?" and get a complete answer

    Examples:
      | message                                     | code                 |
      | text that is not JSON                       | INVALID_JSON         |
      | a list instead of an object                 | INVALID_JSON         |
      | an unknown kind of message                  | UNKNOWN_MESSAGE_TYPE |
      | a question with no text                     | INVALID_PAYLOAD      |
      | a question longer than 8,000 characters     | INVALID_PAYLOAD      |
      | a question for an agent that does not exist | UNKNOWN_AGENT        |
      | a binary frame that is not UTF-8            | INVALID_JSON         |
