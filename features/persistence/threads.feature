@epic:Conversation_history @feature:Thread_management
Feature: People keep their threads in order
  People come back to earlier conversations by name: threads are listed newest first, a page at a
  time, carry a sensible title without anyone naming them, can be renamed, and are gone for good
  once deleted.

  @clause:REST-3.4 @clause:REST-3.5 @clause:DET-7.16
  @normal @story:Thread_list
  Scenario: Threads are listed newest first, a page at a time, and keep a new name
    Given Alice has signed up
    And Alice has created threads titled "January review", "February review", "March review", "April review" and "May review", in that order
    When Alice lists her threads 2 at a time
    Then she sees these pages, each saying she has 5 threads in total
      | page | titles                        |
      | 1    | May review, April review      |
      | 2    | March review, February review |
      | 3    | January review                |
    When Alice renames "March review" to "First quarter review"
    Then her thread list shows "First quarter review" in place of "March review"
    And the renamed thread, read on its own, is titled "First quarter review"

  @clause:REST-3.3 @clause:DET-7.16
  @minor @story:Thread_titles
  Scenario: A thread created without a title is called "New thread"
    Given Alice has signed up
    When Alice creates a thread without a title
    Then that thread is titled "New thread" in her thread list and when read on its own

  @clause:WS-4.11 @clause:DET-7.16
  @normal @story:Thread_titles
  Scenario Outline: A thread started by a question is titled with the question's first 60 characters (<case>)
    Given Alice has signed up and opened the chat
    When Alice asks "<question>"
    Then the thread of Alice's question is titled "<title>"

    Examples:
      | case                  | question                                                                            | title                                                        |
      | a short question      | Why did our bill grow?                                                              | Why did our bill grow?                                       |
      | exactly 60 characters | Show me what each of our models cost us in the past 30 days.                        | Show me what each of our models cost us in the past 30 days. |
      | a long question       | How can my team cut what we spend on gpt-4o each month without losing any quality? | How can my team cut what we spend on gpt-4o each month witho |

  @clause:REST-3.5
  @critical @story:Deleting_threads
  Scenario: A deleted thread is gone for good
    Given Alice has signed up and opened the chat
    And Alice has a thread started by the question "How can my team spend less on AI?"
    When Alice deletes that thread
    Then that thread is no longer in her thread list
    And reading that thread or its messages answers exactly as for a thread that never existed
    And asking a question in that thread is refused because the thread does not exist
