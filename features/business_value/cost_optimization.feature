@epic:Business_value @feature:Cost_optimization
Feature: Cost-optimization advice in the chat
  A team that tells the platform what it spends on AI gets concrete, trustworthy savings:
  the agents show their work while they think, and the answer names the action and the money.

  @critical @story:Savings_journey
  Scenario: A new user signs up, asks how to spend less and gets concrete savings
    Given Alice has signed up
    And Alice's team spends $450 a month on gpt-4o for classification
    When Alice asks "How can my team spend less on AI?"
    Then Alice sees the agents start, think, use tools and complete, in that order
    And Alice is told she can save $423.00 a month
