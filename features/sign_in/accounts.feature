@epic:Sign-in_and_sessions @feature:Accounts
Feature: Signing up and signing in
  A new customer must get from sign-up to a first answer without friction, and the door to an
  account must open only for its owner: no second account on the same email, no guessing passwords.

  @clause:AUTH-2.1 @clause:AUTH-2.4 @clause:AUTH-2.12 @clause:AUTH-2.16 @clause:AUTH-2.18 @clause:WS-4.7
  @critical @story:First_session
  Scenario: A new user signs up, signs in and gets an answer in the chat
    When Alice signs up with her email and a password
    Then Alice's account is created with the standard permissions
    When Alice signs in with her email and password
    Then the platform knows Alice by her email and name
    When Alice asks "Where does my AI budget go?"
    Then Alice's answer is complete

  @clause:AUTH-2.2
  @critical @story:Unique_accounts
  Scenario: Signing up with an email that is already in use is refused, and the account stays its owner's
    Given Alice has signed up
    When Mallory tries to sign up with Alice's email
    Then Mallory's sign-up is refused because the email is already registered
    And Alice can still sign in with her own password
    And Mallory's password does not open Alice's account

  @clause:AUTH-2.5
  @critical @story:Wrong_password
  Scenario Outline: A sign-in with <attempt> is refused
    Given Alice has signed up
    When someone signs in with <attempt>
    Then the sign-in is refused as invalid credentials

    Examples:
      | attempt                             |
      | Alice's email and a wrong password  |
      | an email nobody has registered      |

  @clause:AUTH-2.6 @clause:DET-7.9
  @critical @story:Password_guessing
  Scenario: After five wrong passwords an account is locked for a while, even against the right password
    Given Alice has signed up
    And Bob has signed up
    When someone tries 5 wrong passwords for Alice's email
    Then every one of those attempts is refused as invalid credentials
    When Alice tries to sign in with her right password
    Then Alice is told to try again later
    And the answer says how many seconds to wait, at most a minute
    And Bob can still sign in with his own password

  @clause:DET-7.9
  @normal @story:Password_guessing
  Scenario: A successful sign-in starts the count of wrong passwords afresh
    Given Alice has signed up
    And Alice has mistyped her password 4 times
    And Alice has then signed in with her right password
    When Alice mistypes her password once more
    Then Alice can still sign in with her own password
