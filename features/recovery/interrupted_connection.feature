@epic:Recovery_and_resilience @feature:Interrupted_connection
Feature: An answer is finished even when the user leaves
  People close the laptop lid or lose signal while the agents are still working; the analysis
  must finish anyway and wait for them in the conversation history.

  @clause:RUN-5.10
  @critical @story:Run_survives_disconnect
  Scenario: An answer is completed and stored although the user closed the chat mid-run
    Given Alice has signed up and opened the chat
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice starts asking "How can my team spend less on AI?"
    And Alice closes the chat before the answer arrives
    Then the answer is stored in Alice's conversation history shortly afterwards
