@epic:Business_value @feature:Cost_optimization
Feature: Cost-optimization advice in the chat
  A team that tells the platform what it spends on AI gets concrete, trustworthy savings:
  the agents show their work while they think, and the answer names the action and the money.

  @clause:AUTH-2.1 @clause:REST-3.7 @clause:REST-3.8 @clause:REST-3.11 @clause:RUN-5.12 @clause:RUN-5.13 @clause:DET-7.4 @clause:COST-6.6
  @critical @story:Savings_journey @reference-rules
  Scenario: A new user signs up, asks how to spend less and gets concrete savings
    Given Alice has signed up
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks "How can my team spend less on AI?"
    Then Alice sees the agents start, think, use tools and complete, in that order
    And Alice is told she can save $423.00 a month

  @clause:RUN-5.12 @clause:RUN-5.13
  @critical @story:Savings_journey
  Scenario: Every saving Alice is promised is backed by a recommendation she can act on
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model           | task           | requests | input tokens | output tokens | shared prefix tokens | batchable |
      | gpt-4o          | classification | 100,000  | 1,000        | 200           | 0                    | no        |
      | claude-sonnet-4 | summarization  | 20,000   | 4,000        | 500           | 3,000                | no        |
      | gemini-2.5-pro  | report writing | 40,000   | 2,000        | 1,000         | 0                    | yes       |
    When Alice asks "How can my team spend less on AI?"
    Then Alice's answer is complete
    And Alice is offered at least one way to save
    And each of Alice's recommendations names the model, the action and what it saves a month
    And Alice's promised monthly saving is the sum of the recommendations and no more than the current spend
    And Alice's annual saving is twelve times the monthly saving
    And Alice's percentage saved is the monthly saving's share of the current spend
    And Alice's largest saving is recommended first

  @clause:RUN-5.13 @clause:COST-6.4 @clause:DET-7.6
  @critical @story:Savings_journey @reference-rules
  Scenario: Alice sees which change saves how much, the largest saving first
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model           | task           | requests | input tokens | output tokens | shared prefix tokens | batchable |
      | gpt-4o          | classification | 100,000  | 1,000        | 200           | 0                    | no        |
      | claude-sonnet-4 | summarization  | 20,000   | 4,000        | 500           | 3,000                | no        |
      | gemini-2.5-pro  | report writing | 40,000   | 2,000        | 1,000         | 0                    | yes       |
    When Alice asks "How can my team spend less on AI?"
    # spend $450.00 + $390.00 + $500.00 = $1,340.00 (the rows of the outline below);
    # savings $423.00 + $250.00 + $162.00 = $835.00; x 12 = $10,020.00; 100 x 835 / 1,340 = 62.31 %
    Then Alice's recommendations are:
      | action                | model           | monthly saving |
      | route to gpt-4o-mini  | gpt-4o          | $423.00        |
      | batch requests        | gemini-2.5-pro  | $250.00        |
      | cache prompt prefixes | claude-sonnet-4 | $162.00        |
    And Alice is told she spends $1,340.00 a month
    And Alice is told she can save $835.00 a month, $10,020.00 a year, 62.31 % of her spend

  @clause:COST-6.3 @clause:DET-7.6
  @normal @story:Reference_savings @reference-rules
  Scenario: After routing, caching and batching are priced on the model the traffic moved to
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model  | task       | requests | input tokens | output tokens | shared prefix tokens | batchable |
      | gpt-4o | extraction | 60,000   | 2,000        | 300           | 1,200                | yes       |
    When Alice asks the cost optimizer agent "How can my team spend less on AI?"
    # the arithmetic is under "All three levers on one workload" below
    Then Alice's recommendations are:
      | action                | model       | monthly saving |
      | route to gpt-4o-mini  | gpt-4o      | $451.20        |
      | batch requests        | gpt-4o-mini | $11.70         |
      | cache prompt prefixes | gpt-4o-mini | $5.40          |

  @clause:COST-6.1 @clause:COST-6.2 @clause:COST-6.3 @clause:COST-6.5
  @critical @story:Reference_savings @reference-rules
  Scenario Outline: The reference rules price each lever exactly: <model> for <task>
    Given Alice has signed up
    And Alice's team used these models over the last 30 days
      | model   | task   | requests   | input tokens | output tokens | shared prefix tokens | batchable   |
      | <model> | <task> | <requests> | <input>      | <output>      | <prefix>             | <batchable> |
    When Alice asks the cost optimizer agent "How can my team spend less on AI?"
    Then Alice is told she spends <current spend> a month
    And Alice is told she can save <monthly saving> a month, <annual saving> a year, <share> of her spend

    # Cost of usage = requests x (input tokens x input price + output tokens x output price) / 1,000,000,
    # at the list prices per million tokens of the platform's catalogue.
    Examples: Model routing moves simple tasks to the same vendor's economy model
      | model           | task           | requests | input | output | prefix | batchable | current spend | monthly saving | annual saving | share   |
      # 100,000 x (1,000 x 2.50 + 200 x 10.00) / 1e6 = $450.00; on gpt-4o-mini 100,000 x (1,000 x 0.15 + 200 x 0.60) / 1e6 = $27.00
      # saving $423.00; x 12 = $5,076.00; 100 x 423 / 450 = 94.00 %
      | gpt-4o          | classification | 100,000  | 1,000 | 200    | 0      | no        | $450.00       | $423.00        | $5,076.00     | 94.00 % |
      # 30,000 x (800 x 3.00 + 100 x 15.00) / 1e6 = $117.00; on claude-haiku-3.5 30,000 x (800 x 0.80 + 100 x 4.00) / 1e6 = $31.20
      # saving $85.80; x 12 = $1,029.60; 100 x 85.80 / 117 = 73.33 %
      | claude-sonnet-4 | tagging        | 30,000   | 800   | 100    | 0      | no        | $117.00       | $85.80         | $1,029.60     | 73.33 % |

    Examples: Prompt caching bills a shared prompt prefix at the cached price
      | model           | task           | requests | input | output | prefix | batchable | current spend | monthly saving | annual saving | share   |
      # 20,000 x (4,000 x 3.00 + 500 x 15.00) / 1e6 = $390.00; the 3,000 shared tokens at 0.30 instead of 3.00:
      # 20,000 x 3,000 x (3.00 - 0.30) / 1e6 = $162.00; x 12 = $1,944.00; 100 x 162 / 390 = 41.54 %
      | claude-sonnet-4 | summarization  | 20,000   | 4,000 | 500    | 3,000  | no        | $390.00       | $162.00        | $1,944.00     | 41.54 % |

    Examples: Batching halves the price of work that can wait
      | model           | task           | requests | input | output | prefix | batchable | current spend | monthly saving | annual saving | share   |
      # 40,000 x (2,000 x 1.25 + 1,000 x 10.00) / 1e6 = $500.00; batch discount 50 % saves $250.00; x 12 = $3,000.00; 50.00 %
      | gemini-2.5-pro  | report writing | 40,000   | 2,000 | 1,000  | 0      | yes       | $500.00       | $250.00        | $3,000.00     | 50.00 % |

    Examples: All three levers on one workload, each on what the previous one left
      | model           | task           | requests | input | output | prefix | batchable | current spend | monthly saving | annual saving | share   |
      # 60,000 x (2,000 x 2.50 + 300 x 10.00) / 1e6 = $480.00
      # routing: on gpt-4o-mini 60,000 x (2,000 x 0.15 + 300 x 0.60) / 1e6 = $28.80, saving $451.20
      # caching on gpt-4o-mini: 60,000 x 1,200 x (0.15 - 0.075) / 1e6 = $5.40, leaving $23.40
      # batching on gpt-4o-mini: $23.40 x 0.5 = $11.70
      # $451.20 + $11.70 + $5.40 = $468.30; x 12 = $5,619.60; 100 x 468.30 / 480 = 97.56 %
      | gpt-4o          | extraction     | 60,000   | 2,000 | 300    | 1,200  | yes       | $480.00       | $468.30        | $5,619.60     | 97.56 % |

    Examples: A change saving less than $1.00 a month is not recommended
      | model           | task           | requests | input | output | prefix | batchable | current spend | monthly saving | annual saving | share   |
      # 1,000 x (1,000 x 2.50 + 200 x 10.00) / 1e6 = $4.50; drafting is not routed;
      # caching would save 1,000 x 200 x (2.50 - 1.25) / 1e6 = $0.25, under $1.00
      | gpt-4o          | drafting       | 1,000    | 1,000 | 200    | 200    | no        | $4.50         | $0.00          | $0.00         | 0.00 %  |
