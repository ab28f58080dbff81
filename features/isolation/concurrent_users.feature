@epic:Multi-user_isolation @feature:Concurrent_users
Feature: Many people use the agents at the same time
  Teams share one platform: while several people ask at once, each must see only their own agents
  at work and get answers computed from their own data, and nobody's burst of questions may hold
  anyone else up.

  @clause:WS-4.23 @clause:RUN-5.2
  @critical @story:Different_agents_at_once
  Scenario: Three people ask three different agents at the same moment and each sees only their own work
    Given these people have shared their usage and opened the chat
      | person | model           | task           | requests | input tokens | output tokens | latency ms |
      | Alice  | gpt-4o          | classification | 100,000  | 1,000        | 200           | 800        |
      | Bob    | claude-sonnet-4 | extraction     | 40,000   | 2,000        | 300           | 1200       |
      | Carol  | gemini-2.5-pro  | tagging        | 20,000   | 500          | 100           | 600        |
    When they ask these agents at the same moment
      | person | agent                 | question                               |
      | Alice  | supervisor            | How can my team spend less on AI?      |
      | Bob    | data analysis         | What did we spend each day this month? |
      | Carol  | performance optimizer | Which model slows our product down?    |
    Then each of them received the frames of their own question and of nobody else's
    And each answer describes only that person's own usage

  @clause:WS-4.23 @clause:REST-3.2
  @critical @story:Same_agent_different_data @reference-rules
  Scenario: Three teams ask the cost optimizer at the same moment and each gets the saving of their own spend
    Given these teams have shared their monthly spend and opened the chat
      | person | model           | task           | monthly spend |
      | Alice  | gpt-4o          | classification | $450          |
      | Bob    | claude-sonnet-4 | extraction     | $600          |
      | Carol  | gemini-2.5-pro  | tagging        | $325          |
    When Alice, Bob and Carol ask the cost optimizer agent "How can we spend less on AI?" at the same moment
    Then each team is told the saving of their own spend
      | person | current monthly cost | monthly saving | annual saving |
      | Alice  | $450.00              | $423.00        | $5,076.00     |
      | Bob    | $600.00              | $440.00        | $5,280.00     |
      | Carol  | $325.00              | $245.00        | $2,940.00     |
    And each of them received the frames of their own question and of nobody else's

  @clause:WS-4.19 @clause:WS-4.20 @clause:DET-7.14
  @critical @story:Fair_use_limits
  Scenario: A flood of questions from one person is limited and does not hold up anyone else
    Given Alice has signed up and opened the chat
    And Bob has signed up and opened the chat
    When Bob sends 6 questions at once while Alice asks "How can my team spend less on AI?"
    Then 5 of Bob's questions run and the 6th is refused because he already has 5 running
    And Alice was not held up: her agents started within 5 seconds
    And Alice's answer is complete
    When Bob stops his questions and sends new ones, 5 at a time, until 20 have started within 10 seconds
    And Bob sends one more question
    Then Bob is told he started too many questions in a short time, and when he may try again
    When Alice asks "Which model costs us the most?"
    Then Alice's answer is complete
    And each of them received the frames of their own question and of nobody else's
