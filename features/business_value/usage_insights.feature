@epic:Business_value @feature:Usage_insights
Feature: Usage insights: the daily trend, unusual days and slow models
  Before a team changes how it uses AI it wants to see where the money and the time go: its spend
  day by day, the day that broke the pattern, and the models that keep its users waiting.

  @clause:RUN-5.14 @clause:DET-7.5
  @critical @story:Daily_trend
  Scenario: The data analysis shows the daily trend and flags the day spend jumped
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model  | task           | requests | input tokens | output tokens | days ago |
      | gpt-4o | classification | 1,000    | 1,000        | 200           | 8        |
      | gpt-4o | classification | 1,200    | 1,000        | 200           | 7        |
      | gpt-4o | classification | 1,400    | 1,000        | 200           | 6        |
      | gpt-4o | classification | 1,600    | 1,000        | 200           | 5        |
      | gpt-4o | classification | 1,800    | 1,000        | 200           | 4        |
      | gpt-4o | classification | 8,000    | 1,000        | 200           | 3        |
      | gpt-4o | classification | 2,000    | 1,000        | 200           | 2        |
      | gpt-4o | classification | 2,200    | 1,000        | 200           | 1        |
    When Alice asks the data analysis agent "How did our AI spend develop this month?"
    Then Alice's daily usage reads:
      | days ago | requests |
      | 8        | 1,000    |
      | 7        | 1,200    |
      | 6        | 1,400    |
      | 5        | 1,600    |
      | 4        | 1,800    |
      | 3        | 8,000    |
      | 2        | 2,000    |
      | 1        | 2,200    |
    # the median day is halfway between the 1,600- and the 1,800-request days; 8,000 requests cost
    # more than twice that on the same model, every other day less
    And Alice's analysis flags only the day 3 days ago as unusual

  @clause:RUN-5.14 @clause:DET-7.5
  @normal @story:Daily_trend @reference-rules
  Scenario: The unusual day is priced against the median day
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model  | task           | requests | input tokens | output tokens | days ago |
      | gpt-4o | classification | 2,000    | 1,000        | 200           | 4        |
      | gpt-4o | classification | 2,000    | 1,000        | 200           | 3        |
      | gpt-4o | classification | 10,000   | 1,000        | 200           | 2        |
      | gpt-4o | classification | 2,400    | 1,000        | 200           | 1        |
    When Alice asks the data analysis agent "Which day cost us the most?"
    # a request costs (1,000 x 2.50 + 200 x 10.00) / 1e6 = $0.0045
    Then Alice's daily usage reads:
      | days ago | requests | cost   |
      | 4        | 2,000    | $9.00  |
      | 3        | 2,000    | $9.00  |
      | 2        | 10,000   | $45.00 |
      | 1        | 2,400    | $10.80 |
    # median of $9.00, $9.00, $10.80, $45.00 = ($9.00 + $10.80) / 2 = $9.90; $45.00 > 2 x $9.90 > $10.80
    And Alice's unusual day 2 days ago cost $45.00 against a typical $9.90

  @clause:RUN-5.15 @clause:DET-7.17
  @critical @story:Latency
  Scenario: The performance optimizer reports latency per model and points at the slow tail
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model            | task     | requests | input tokens | output tokens | latency ms |
      | gpt-4o           | drafting | 900      | 1,000        | 200           | 800        |
      | gpt-4o           | drafting | 100      | 1,000        | 200           | 4000       |
      | claude-haiku-3.5 | tagging  | 980      | 500          | 50            | 500        |
      | claude-haiku-3.5 | tagging  | 20       | 500          | 50            | 700        |
    When Alice asks the performance optimizer agent "Which model keeps our users waiting?"
    # weighted by requests: on gpt-4o 90 % of requests take 800 ms and 10 % take 4,000 ms, so its p95
    # is more than twice its p50; on claude-haiku-3.5 98 % take 500 ms
    Then Alice sees the latency of each model:
      | model            | p50 ms | p95 ms |
      | claude-haiku-3.5 | 500    | 500    |
      | gpt-4o           | 800    | 4000   |
    And Alice is advised to act on the latency of gpt-4o only

  @clause:RUN-5.5
  @normal @story:Long_analysis
  Scenario: A long analysis of a large usage history shows its progress until it completes
    Given Alice has signed up
    And Alice's team has a usage history of 10,000 records over the last four weeks
    When Alice asks the data analysis agent "Analyse our whole usage history, please."
    Then Alice's answer is complete
    And Alice sees the progress of the analysis, never going back, before it completes
    And Alice's analysis accounts for every one of the 10,000 requests
