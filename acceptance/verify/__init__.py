"""What a correct answer is: failure kinds, checks, matchers, the contract's clauses and schemas."""
