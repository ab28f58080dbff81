@epic:Sign-in_and_sessions @feature:Token_rules
Feature: Only genuine, current tokens are honoured
  Anyone can write a token. The platform must honour only those it issued itself, unaltered, still
  current, of the right kind and not signed out of - and apply the same rules to the API and to the
  chat, whichever way the token is presented.

  @clause:REST-3.1 @clause:AUTH-2.13 @clause:WS-4.3 @clause:SVC-1.5
  @critical @story:Token_rules
  Scenario: Without any credential neither the API nor the chat opens
    When someone lists conversations without any token
    Then that request is refused as not signed in
    When someone opens the chat without any credential
    Then the chat connection is refused before any message is exchanged

  @clause:AUTH-2.20 @clause:AUTH-2.21 @clause:WS-4.3
  @critical @story:Forged_tokens @needs-jwt-secret
  Scenario Outline: A token with <flaw> opens neither the API nor the chat
    Given Alice has signed up
    And someone has made a token for Alice with <flaw>
    Then listing conversations with that token is refused as not signed in
    And the auth service declares that token invalid
    And opening the chat with that token is refused whichever way it is presented:
      | credential form          |
      | the authorization header |
      | a sub-protocol token     |
      | a token in the address   |

    Examples: Tampered or counterfeit tokens
      | flaw                        |
      | a wrong signature           |
      | no signature algorithm      |
      | a different algorithm       |
      | a foreign issuer            |
      | a foreign audience          |

    Examples: Tokens outside their lifetime
      | flaw                        |
      | an expired lifetime         |
      | an issue time in the future |

    Examples: Tokens missing a required claim
      | flaw                        |
      | no expiry claim             |
      | no subject claim            |
      | no token id claim           |
      | no token type claim         |
      | no permissions claim        |

  @clause:AUTH-2.11 @clause:AUTH-2.21 @clause:REST-3.1 @clause:WS-4.3
  @critical @story:Token_rules
  Scenario Outline: Presenting <token> opens neither the API nor the chat
    Given Alice has signed up
    And someone holds <token>
    Then listing conversations with that token is refused as not signed in
    And the auth service declares that token invalid
    And opening the chat with that token is refused whichever way it is presented:
      | credential form          |
      | the authorization header |
      | a sub-protocol token     |
      | a token in the address   |

    Examples:
      | token                                             |
      | Alice's renewal token in place of an access token |
      | an access token Alice has signed out of           |
      | a string that is not a token                      |
