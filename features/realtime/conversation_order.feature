@epic:Realtime_updates @feature:Conversation_order
Feature: Questions in a row are answered in order
  People ask follow-up questions in the same conversation; each answer must arrive whole, after
  the previous one, and the conversation must read back in the order it happened.

  @clause:RUN-5.1 @clause:WS-4.11 @clause:WS-4.15 @clause:REST-3.6
  @critical @story:Message_ordering
  Scenario: Three questions in a row keep their order and never mix
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks these questions one after another in one conversation
      | question                                 |
      | How much does our team spend on AI?      |
      | Which model costs us the most?           |
      | How can my team spend less on AI?        |
    Then Alice's answers arrive in the order she asked, never mixed together
    And the conversation history lists Alice's questions, each followed by its answer
