@epic:Multi-user_isolation @feature:Private_data
Feature: Nobody reaches another person's threads, questions or usage
  A team's conversations and spending are confidential: another signed-in person must not read,
  change, follow or stop them, nor even learn that they exist, and nobody's advice or bill may
  include someone else's usage.

  @clause:WS-4.15 @clause:WS-4.17 @clause:REST-3.2
  @critical @story:Private_threads
  Scenario: Another person's thread cannot be reached in the chat
    Given Alice has signed up and opened the chat
    And Alice has a thread started by the question "How can my team spend less on AI?"
    And Bob has signed up and opened the chat
    When Bob asks the chat to show Alice's thread
    Then Bob is told it does not exist, exactly as if it had never existed
    When Bob asks a question in Alice's thread
    Then Bob is told it does not exist, exactly as if it had never existed
    And Bob's chat received nothing of Alice's thread
    And Alice's thread is unchanged

  @clause:REST-3.2 @clause:REST-3.5 @clause:REST-3.6
  @critical @story:Private_threads
  Scenario Outline: Another person's thread cannot be reached through the API: <attempt>
    Given Alice has signed up and opened the chat
    And Alice has a thread started by the question "How can my team spend less on AI?"
    And Bob has signed up
    When Bob tries to <attempt> Alice's thread through the API
    Then Bob is told it does not exist, exactly as if it had never existed
    And Alice's thread is unchanged

    Examples:
      | attempt              |
      | read                 |
      | rename               |
      | read the messages of |
      | delete               |

  @clause:WS-4.14 @clause:DET-7.3 @clause:DET-7.15
  @critical @story:Private_questions
  Scenario: Another person can neither stop nor follow my question
    Given Alice has signed up and opened the chat
    And Bob has signed up and opened the chat
    When Alice starts asking "How can my team spend less on AI?"
    And Bob tries to stop Alice's question
    Then Bob is told it does not exist, exactly as if it had never existed
    When Bob tries to follow Alice's question from its beginning
    Then Bob is told it does not exist, exactly as if it had never existed
    And Alice's answer is complete
    And Bob's chat received nothing of Alice's question

  @clause:REST-3.2 @clause:REST-3.9 @clause:DET-7.8
  @critical @story:Private_usage @reference-rules
  Scenario: Another team's usage never counts in my summary or my savings
    Given Alice's team spends $450 a month on gpt-4o for classification
    And Bob's team spends $6,000 a month on claude-sonnet-4 for extraction
    When Alice and Bob ask the cost optimizer agent "How can my team spend less on AI?" at the same moment
    Then Alice's usage summary shows $450.00 a month, all of it on gpt-4o
    And Alice's advice counts $450.00 a month of spend, all of it on gpt-4o
    And Alice is told she can save $423.00 a month
    And Bob's usage summary shows $6,000.00 a month, all of it on claude-sonnet-4
    And Bob is told he can save $4,400.00 a month
