@epic:Business_value @feature:Data_sufficiency
Feature: Advice says how much usage data it rests on
  Savings worked out from a day or two of usage are an estimate, and with no usage at all there
  is nothing to advise: the team must be told which case it is in, never shown an error.

  @clause:RUN-5.11 @clause:DET-7.5
  @critical @story:No_usage_data
  Scenario: A team without usage data is told so instead of getting an error
    Given Alice has signed up
    And Alice has not shared any usage data yet
    When Alice asks "How can my team spend less on AI?"
    Then Alice's answer is complete
    And Alice is told there is not enough usage data for advice yet

  @clause:DET-7.5
  @normal @story:Partial_usage_data
  Scenario Outline: Advice from <days> day(s) of usage is marked as based on <coverage> data
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model  | task           | requests | input tokens | output tokens | days   |
      | gpt-4o | classification | 10,000   | 1,000        | 200           | <days> |
    When Alice asks the cost optimizer agent "How can my team spend less on AI?"
    Then Alice's advice is marked as based on <coverage> data
    And Alice is offered at least one way to save

    # Fewer than 7 distinct days with usage in the last 30 days is partial data.
    Examples:
      | days | coverage   |
      | 1    | partial    |
      | 6    | partial    |
      | 7    | sufficient |
