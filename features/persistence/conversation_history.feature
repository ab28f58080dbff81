@epic:Conversation_history @feature:History_of_answers
Feature: Questions and answers stay in the conversation history
  Advice is only worth something if the team can come back to it: every question and answer is
  kept in its thread for the person who asked, exactly as the chat showed it, even when several
  windows write to the same thread at once.

  @clause:RUN-5.10 @clause:REST-3.6 @clause:AUTH-2.4
  @critical @story:Coming_back_later
  Scenario: An answer is still in the history when the user signs in again later
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks "How can my team spend less on AI?"
    And Alice closes the chat and signs out
    And Alice signs in again with her password and opens the chat
    Then Alice finds the thread of her question in her thread list
    And the thread holds her question and the answer, with the same result the chat showed
    And the chat shows her the same history of that thread

  @clause:WS-4.11 @clause:REST-3.6
  @critical @story:Several_windows
  Scenario: Two windows asking in the same thread at the same moment lose nothing
    Given Alice has signed up
    And Alice has the chat open in 2 windows
    And Alice has an empty thread titled "Budget questions"
    When Alice asks "Which model costs us the most?" in one window and "Where could batching help us?" in the other, in that thread at the same moment
    Then both windows show both answers complete
    And the thread holds both questions and both answers, each answer after its own question
