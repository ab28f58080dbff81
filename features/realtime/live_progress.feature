@epic:Realtime_updates @feature:Live_progress
Feature: Live progress while the agents work
  An analysis of a team's AI spending takes a while; seeing the agents start, think and use their
  tools as it happens is what keeps people in the chat instead of giving up on a silent screen.

  @clause:WS-4.4 @clause:WS-4.5 @clause:RUN-5.1 @clause:RUN-5.2 @clause:RUN-5.4 @clause:RUN-5.5 @clause:RUN-5.6 @clause:RUN-5.7 @clause:RUN-5.9 @clause:DET-7.1
  @critical @story:Event_stream
  Scenario: A cost question streams every step of the agents' work, in order
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks "How can my team spend less on AI?"
    Then Alice sees the agents start, think, use tools and complete, in that order
    And every update of Alice's answer belongs to one run and one conversation
    And every agent Alice sees thinks before it uses its first tool
    And every tool Alice sees starting is reported finished by the same agent and tool
    And Alice sees the specialists' work nested inside the supervisor's
    And the progress Alice sees never goes backwards
    And every message Alice received follows the platform's message format

  @clause:RUN-5.3
  @critical @story:First_response_time
  Scenario: The first update arrives within 5 seconds of the question
    Given Alice has signed up and opened the chat
    When Alice asks "Where does our AI budget go?"
    Then Alice saw the agents start within 5 seconds of asking

  @clause:WS-4.9 @clause:WS-4.10
  @normal @story:Keep_alive
  Scenario: A keep-alive check is answered with its own token
    Given Alice has signed up and opened the chat
    When Alice checks that the connection is alive
    Then the platform answers Alice's check with the same token
