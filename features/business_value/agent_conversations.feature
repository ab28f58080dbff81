@epic:Business_value @feature:Agent_conversations
Feature: Conversations with the agents
  A team works with the agents over several questions: it asks a specialist directly, stops an
  answer it no longer needs, and finds every question and answer in one conversation afterwards.

  @clause:WS-4.11 @clause:WS-4.16 @clause:WS-4.17 @clause:DET-7.14
  @critical @story:Unknown_agent
  Scenario: Asking for an agent that does not exist is refused and the conversation carries on
    Given Alice has signed up and opened the chat
    When Alice asks a "fortune teller" agent "Will AI prices fall next year?"
    Then Alice is told there is no such agent
    When Alice asks "How can my team spend less on AI?"
    Then Alice's answer is complete
    And Alice is still talking over the chat connection that refused the unknown agent

  @clause:WS-4.13 @clause:RUN-5.8 @clause:DET-7.2
  @critical @story:Stop_and_resume
  Scenario: Alice stops an answer she no longer needs and carries on in the same conversation
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice starts asking "How can my team spend less on AI?"
    And Alice stops it while an agent is using a tool
    Then Alice's agents stop: the supervisor reports the stop once and no tool is left half-done
    And no answer is saved for Alice's stopped question
    When Alice follows up in the same conversation with "Just tell me the single biggest saving."
    Then Alice's answer is complete
    And Alice's conversation history reads:
      | question                                | answered |
      | How can my team spend less on AI?       | no       |
      | Just tell me the single biggest saving. | yes      |

  @clause:WS-4.11 @clause:RUN-5.2 @clause:RUN-5.10 @clause:REST-3.6
  @critical @story:Multi_turn_conversation
  Scenario: A three-question conversation keeps its thread and its history
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks "How can my team spend less on AI?"
    And Alice follows up in the same conversation with "Which change saves the most?"
    And Alice follows up in the same conversation with "How much is that over a year?"
    Then Alice's conversation history reads:
      | question                          | answered |
      | How can my team spend less on AI? | yes      |
      | Which change saves the most?      | yes      |
      | How much is that over a year?     | yes      |

  @clause:WS-4.16 @clause:RUN-5.7 @clause:RUN-5.12 @clause:RUN-5.14 @clause:RUN-5.15
  @critical @story:Specialists
  Scenario Outline: Alice asks the <agent> agent directly
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model  | task           | requests | input tokens | output tokens | latency ms |
      | gpt-4o | classification | 100,000  | 1,000        | 200           | 900        |
    When Alice asks the <agent> agent "<question>"
    Then Alice sees the agents start, think, use tools and complete, in that order
    And Alice is answered by the <agent> agent with <answer>

    Examples:
      | agent                 | question                                 | answer                                       |
      | cost optimizer        | How can my team spend less on AI?        | savings and the recommendations behind them  |
      | data analysis         | How did our AI spend develop this month? | daily costs, usage by model and unusual days |
      | performance optimizer | Which model keeps our users waiting?     | latency per model and what to do about it    |
      | triage                | Who should look at our AI costs?         | a summary of how the request will be handled |
