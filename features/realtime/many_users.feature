@epic:Realtime_updates @feature:Many_users
Feature: Many people chatting at the same time
  Teams ask their questions at the start of the working day, all at once; everyone must get a
  complete answer of their own, and nobody may see a word of anybody else's analysis.

  @clause:WS-4.23 @clause:RUN-5.1
  @critical @story:Concurrent_users
  Scenario: Twenty people asking at the same moment each get their own complete answer
    Given 20 people have signed up and opened the chat
    When they all ask "How can my team spend less on AI?" at the same moment
    Then every one of them receives a complete answer
    And nobody receives updates of anybody else's run
